package dev.weir.metadata;

/**
 * The metadata database, by role: the topic catalog, the batch coordinator (which owns offsets and
 * producer state: offsets are assigned in {@link #commit}, in one transaction per object), the batch
 * index, the bookkeeping of merging, the object catalog and group offsets. Each part of the broker
 * takes the roles it uses. Implementations are thread-safe; every method may block on I/O and throws
 * {@link MetadataException} on failure.
 */
public interface MetadataStore extends TopicCatalog, BatchCoordinator, BatchIndex, MergeCatalog, ObjectCatalog,
    GroupOffsets, BrokerRegistry, AutoCloseable {
    String clusterId();

    @Override
    void close();
}
