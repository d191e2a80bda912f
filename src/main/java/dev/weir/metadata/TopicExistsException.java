package dev.weir.metadata;

/** A topic of that name exists already. */
public final class TopicExistsException extends MetadataException {
    public TopicExistsException(String name) {
        super("Topic '" + name + "' already exists.");
    }
}
