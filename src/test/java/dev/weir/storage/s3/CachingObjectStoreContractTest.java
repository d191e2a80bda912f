package dev.weir.storage.s3;

import dev.weir.storage.CachingObjectStore;
import dev.weir.storage.ObjectStore;

/**
 * The object store contract on S3 behind the read cache, whose blocks of 4 bytes split even the contract's
 * short objects, and whose bound of a few blocks has them evicted as the tests go.
 */
class CachingObjectStoreContractTest extends S3ObjectStoreContractTest {
    @Override
    protected ObjectStore openEmptyStore() {
        return new CachingObjectStore(super.openEmptyStore(), 3 * (4 + CachingObjectStore.ENTRY_OVERHEAD_BYTES), 4);
    }
}
