package dev.weir.storage;

/**
 * There is no object of that key: a failure like any other where the object must exist, and an answer
 * where the caller asks whether it does. Each store maps its own sign of it (a missing file, S3's 404) here.
 */
public final class ObjectMissingException extends StorageException {
    public ObjectMissingException(String key, Throwable cause) {
        super("object " + key + " is missing", cause);
    }
}
