package dev.weir.server;

import dev.weir.config.BrokerConfig;
import dev.weir.log.LogSettings;
import dev.weir.metadata.MetadataStore;
import dev.weir.metadata.postgres.PostgresMetadataStore;
import dev.weir.metadata.sqlite.SqliteMetadataStore;
import dev.weir.storage.CachingObjectStore;
import dev.weir.storage.ObjectMissingException;
import dev.weir.storage.ObjectStore;
import dev.weir.storage.StorageException;
import dev.weir.storage.local.LocalObjectStore;
import dev.weir.storage.s3.S3ObjectStore;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;

/**
 * The two stores a broker stands on, as the configuration names them: the object store (the data
 * directory's objects, a local directory, or S3 behind a read cache) and the metadata database (SQLite
 * in the data directory, or PostgreSQL), and the check that they belong to one cluster.
 */
final class Stores {
    /** The object that names the cluster whose objects a store holds, written by the first broker on it. */
    static final String CLUSTER_ID_KEY = "cluster/id";
    /** The most of the cluster id object that is read: an id is a few dozen bytes. */
    private static final int MAX_CLUSTER_ID_BYTES = 1024;

    private Stores() {
    }

    static ObjectStore openObjectStore(BrokerConfig config, Path dataDir) {
        URI url = config.objectStoreUrl();
        if (url == null) {
            return new LocalObjectStore(dataDir.resolve("objects"));
        }
        if ("file".equals(url.getScheme())) {
            return new LocalObjectStore(Path.of(url));
        }
        ObjectStore s3 = S3ObjectStore.open(url, config.string(BrokerConfig.S3_ENDPOINT),
            config.string(BrokerConfig.S3_REGION), config.getBoolean(BrokerConfig.S3_PATH_STYLE_ACCESS),
            config.string(BrokerConfig.S3_ACCESS_KEY), config.password(BrokerConfig.S3_SECRET_KEY));
        long cacheBytes = config.getLong(BrokerConfig.OBJECT_CACHE_MAX_BYTES);
        return cacheBytes == 0 ? s3
            : new CachingObjectStore(s3, cacheBytes, config.getInt(BrokerConfig.OBJECT_CACHE_BLOCK_BYTES));
    }

    static MetadataStore openMetadataStore(BrokerConfig config, Path dataDir, Clock clock) {
        String url = config.string(BrokerConfig.METADATA_STORE_URL);
        if (url != null) {
            return new PostgresMetadataStore(url, config.string(BrokerConfig.METADATA_STORE_USER),
                config.password(BrokerConfig.METADATA_STORE_PASSWORD), clock);
        }
        return new SqliteMetadataStore(dataDir.resolve("metadata.db"), clock);
    }

    /** Where the metadata database is, for messages (never with a password). */
    static String metadataLocation(BrokerConfig config, Path dataDir) {
        String url = config.string(BrokerConfig.METADATA_STORE_URL);
        return url != null ? url.replaceAll("(?i)password=[^&]*", "password=...") : dataDir.resolve("metadata.db").toString();
    }

    /**
     * The log's settings: on a store with WAL files (local disk) the wal.* keys, on one where each WAL
     * object is an object of its own (S3) the s3.wal.* ones.
     */
    static LogSettings logSettings(BrokerConfig config, ObjectStore store) {
        boolean local = store.walFiles().isPresent();
        return new LogSettings(
            config.getInt(local ? BrokerConfig.WAL_OBJECT_MAX_BYTES : BrokerConfig.S3_WAL_OBJECT_MAX_BYTES),
            config.getInt(local ? BrokerConfig.WAL_OBJECT_MAX_AGE_MS : BrokerConfig.S3_WAL_OBJECT_MAX_AGE_MS),
            config.getInt(BrokerConfig.WAL_MAX_INFLIGHT_OBJECTS), config.getInt(BrokerConfig.WAL_FILE_BYTES),
            config.getLong(BrokerConfig.WAL_FILE_ROLL_MS), config.getInt(BrokerConfig.TAIL_INDEX_MAX_BATCHES),
            config.getLong(BrokerConfig.INDEX_CACHE_MAX_BYTES),
            LogSettings.indexPageTtlMs(config.getLong(BrokerConfig.LOG_SEGMENT_DELETE_DELAY_MS)));
    }

    /**
     * Makes sure the object store holds this cluster's objects: the first broker on an empty store writes
     * the metadata database's cluster id into it; a store that names another cluster is refused, since
     * the database would take its objects for garbage, or its index would point at objects it lacks.
     */
    static void checkSameCluster(ObjectStore store, MetadataStore metadata, String metadataLocation) {
        String clusterId = metadata.clusterId();
        String stored = storedClusterId(store);
        if (stored == null) {
            try {
                store.put(CLUSTER_ID_KEY, ByteBuffer.wrap(clusterId.getBytes(StandardCharsets.UTF_8)));
                return;
            } catch (StorageException raced) {
                // Another broker of a new cluster wrote it first: it must name the same cluster.
                stored = storedClusterId(store);
                if (stored == null) {
                    throw raced;
                }
            }
        }
        if (!stored.equals(clusterId)) {
            throw new IllegalStateException("The object store " + store + " holds the objects of cluster " + stored
                + ", but the metadata database " + metadataLocation + " is of cluster " + clusterId + ". Point"
                + " object.store.url and metadata.store.url at the store and database of one cluster.");
        }
    }

    /** The cluster id the store holds, or null if it holds none yet; one read (on S3 one GET). */
    private static String storedClusterId(ObjectStore store) {
        ByteBuffer id = ByteBuffer.allocate(MAX_CLUSTER_ID_BYTES);
        try {
            store.readAtMost(CLUSTER_ID_KEY, 0, id);
        } catch (ObjectMissingException absent) {
            return null;
        }
        return StandardCharsets.UTF_8.decode(id.flip()).toString().trim();
    }
}
