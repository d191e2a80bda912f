package dev.weir.storage.local;

import dev.weir.storage.ObjectStore;
import dev.weir.storage.ObjectStoreContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The object store contract on a local directory. */
class LocalObjectStoreContractTest extends ObjectStoreContract {
    @TempDir
    Path dir;

    @Override
    protected ObjectStore openEmptyStore() {
        return new LocalObjectStore(dir);
    }
}
