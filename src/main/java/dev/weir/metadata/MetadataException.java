package dev.weir.metadata;

/** The metadata database failed; the request that hit it cannot be answered with success. */
public class MetadataException extends RuntimeException {
    public MetadataException(String message, Throwable cause) {
        super(message, cause);
    }

    public MetadataException(String message) {
        super(message);
    }
}
