package dev.weir.config;

/** A setting that stops start-up: unknown key, bad value, or an unsupported combination. */
public final class InvalidConfigException extends RuntimeException {
    public InvalidConfigException(String key, String problem) {
        super("Invalid configuration " + key + ": " + problem);
    }

    public InvalidConfigException(String message) {
        super(message);
    }
}
