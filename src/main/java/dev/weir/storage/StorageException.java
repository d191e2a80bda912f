package dev.weir.storage;

/**
 * The object store failed to write or read; the requests that depended on it get a storage error. One
 * failure has a type of its own: {@link ObjectMissingException}.
 */
public class StorageException extends RuntimeException {
    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }

    public StorageException(String message) {
        super(message);
    }
}
