package dev.weir.storage.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.storage.StorageException;
import dev.weir.storage.WalFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.weir.testing.SmallFileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The local object store: immutable objects in a directory, and WAL files on local disk, zero-filled with direct
 * I/O or, where a file system refuses it, through the page cache.
 */
class LocalObjectStoreTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "direct zero-fill: {0}")
    @ValueSource(booleans = {true, false})
    void aWalFileIsZerosToItsCapacityAndKeepsWhatIsWrittenIntoIt(boolean direct) throws Exception {
        try (LocalObjectStore store = new LocalObjectStore(dir, direct)) {
            long capacity = (1 << 20) + 100; // not a whole number of pages
            WalFile file = store.createWalFile("wal/00000000000000000001", capacity);
            byte[] first = "first object".getBytes(StandardCharsets.UTF_8);
            byte[] second = "second object".getBytes(StandardCharsets.UTF_8);
            file.write(0, new ByteBuffer[] {ByteBuffer.wrap(first), ByteBuffer.allocate(WalFile.ALIGNMENT - first.length)});
            file.write(WalFile.ALIGNMENT, new ByteBuffer[] {ByteBuffer.wrap(second)});
            assertThatThrownBy(() -> file.write(capacity - 1, new ByteBuffer[] {ByteBuffer.allocate(2)}))
                .isInstanceOf(IllegalArgumentException.class);
            file.close();

            byte[] bytes = Files.readAllBytes(dir.resolve("wal/00000000000000000001"));
            assertThat((long) bytes.length).isGreaterThanOrEqualTo(capacity).isLessThan(capacity + WalFile.ALIGNMENT);
            assertThat(new String(bytes, 0, first.length, StandardCharsets.UTF_8)).isEqualTo("first object");
            assertThat(new String(bytes, WalFile.ALIGNMENT, second.length, StandardCharsets.UTF_8)).isEqualTo("second object");
            int nonZero = 0;
            for (int i = WalFile.ALIGNMENT + second.length; i < bytes.length; i++) {
                nonZero += bytes[i] == 0 ? 0 : 1;
            }
            assertThat(nonZero).as("bytes never written").isZero();
        }
    }

    @Test
    void anObjectIsWrittenOnceThenReadInRangesSizedListedAndDeleted() throws Exception {
        try (LocalObjectStore store = new LocalObjectStore(dir)) {
            try (var writer = store.create("segment/a")) {
                writer.write(ByteBuffer.wrap("hello, ".getBytes(StandardCharsets.UTF_8)));
                writer.write(ByteBuffer.wrap("objects".getBytes(StandardCharsets.UTF_8)));
                writer.complete();
            }
            assertThat(store.size("segment/a")).isEqualTo(14);
            assertThat(StandardCharsets.UTF_8.decode(store.read("segment/a", 7, 7)).toString()).isEqualTo("objects");
            assertThat(store.list("segment/")).containsExactly("segment/a");
            try (var channel = store.files().orElseThrow().openChannel("segment/a")) {
                assertThat(channel.size()).isEqualTo(14);
            }
            assertThatThrownBy(() -> store.create("segment/a")).isInstanceOf(StorageException.class);
            store.delete("segment/a");
            store.delete("segment/a");
            assertThat(store.list("segment/")).isEmpty();
            assertThatThrownBy(() -> store.size("segment/a")).isInstanceOf(StorageException.class)
                .hasMessageContaining("missing");
        }
    }

    @ParameterizedTest(name = "direct zero-fill: {0}")
    @ValueSource(booleans = {true, false})
    void makingAWalFileOverAnExistingOneFailsAndLeavesItAlone(boolean direct) throws Exception {
        Path existing = dir.resolve("wal/00000000000000000007");
        Files.createDirectories(existing.getParent());
        Files.write(existing, new byte[] {1, 2, 3});
        try (LocalObjectStore store = new LocalObjectStore(dir, direct)) {
            assertThatThrownBy(() -> store.createWalFile("wal/00000000000000000007", 1 << 20))
                .isInstanceOf(StorageException.class).hasMessageContaining("creating WAL file");
        }
        assertThat(Files.readAllBytes(existing)).containsExactly(1, 2, 3);
    }

    /**
     * On a nearly full disk a WAL file takes at most half of the free space, as the largest half,
     * quarter, ... of what was asked, down to the minimum asked for; when not even that fits, making it
     * fails and leaves no file.
     */
    @Test
    void aWalFileIsMadeSmallerOnANearlyFullDiskDownToItsMinimum() throws Exception {
        Path mountPoint = Files.createDirectories(dir.resolve("small"));
        try (SmallFileSystem disk = SmallFileSystem.mount(mountPoint, 16);
             LocalObjectStore store = new LocalObjectStore(disk.path(), false)) {
            Files.createDirectories(disk.path().resolve("wal")); // so all that is free is left for files
            long free = disk.freeBytes();
            long asked = 64L << 20;
            WalFile half = store.createWalFile("wal/00000000000000000001", asked, WalFile.ALIGNMENT);
            assertThat(half.capacity()).as("capacity with %d bytes free", free).isLessThanOrEqualTo(free / 2)
                .isGreaterThan(free / 4);
            assertThat(asked % half.capacity()).as("the capacity divides what was asked").isZero();
            assertThat(Long.bitCount(asked / half.capacity())).as("by a power of two").isEqualTo(1);
            assertThat(Files.size(disk.path().resolve("wal/00000000000000000001"))).isEqualTo(half.capacity());
            half.close();

            Path filler = disk.fill("filler");
            assertThatThrownBy(() -> store.createWalFile("wal/00000000000000000002", asked, WalFile.ALIGNMENT))
                .isInstanceOf(StorageException.class).hasMessageContaining("no room");
            assertThat(disk.path().resolve("wal/00000000000000000002")).doesNotExist();
            Files.delete(filler);
            long freeAgain = disk.freeBytes();
            WalFile least = store.createWalFile("wal/00000000000000000003", asked, freeAgain - WalFile.ALIGNMENT);
            assertThat(least.capacity()).as("capacity with %d bytes free", freeAgain)
                .isEqualTo(freeAgain - WalFile.ALIGNMENT);
            least.close();
        }
    }
}
