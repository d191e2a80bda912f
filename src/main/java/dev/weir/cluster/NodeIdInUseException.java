package dev.weir.cluster;

/** Another running broker holds this broker's node id. */
public final class NodeIdInUseException extends IllegalStateException {
    public NodeIdInUseException(String message) {
        super(message);
    }
}
