package dev.weir.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ObjectStore} promises, run against each backend by a subclass that says how to open
 * one: objects are written once and never overwritten, read in ranges, sized, listed by prefix and
 * deleted (one or many at once), written in pieces or put at once; a read at most stops where the object ends; an abandoned writer
 * leaves nothing; a missing object is an error, not empty bytes.
 */
public abstract class ObjectStoreContract {
    private ObjectStore store;

    /** A new, empty store for one test; the test closes it. */
    protected abstract ObjectStore openEmptyStore() throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = openEmptyStore();
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static ByteBuffer utf8(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    }

    private void put(String key, String... pieces) {
        try (ObjectWriter writer = store.create(key)) {
            for (String piece : pieces) {
                writer.write(utf8(piece));
            }
            writer.complete();
        }
    }

    private String read(String key, long position, int length) {
        return StandardCharsets.UTF_8.decode(store.read(key, position, length)).toString();
    }

    @Test
    void anObjectWrittenInPiecesIsReadInRangesAndSized() {
        put("segment/a", "hello, ", "objects");
        assertThat(store.size("segment/a")).isEqualTo(14);
        assertThat(read("segment/a", 0, 14)).isEqualTo("hello, objects");
        assertThat(read("segment/a", 7, 7)).isEqualTo("objects");
        ByteBuffer direct = ByteBuffer.allocateDirect(3);
        store.readInto("segment/a", 2, direct);
        assertThat(StandardCharsets.UTF_8.decode(direct.flip()).toString()).isEqualTo("llo");
    }

    @Test
    void anObjectIsNeverOverwritten() {
        put("segment/a", "first");
        assertThatThrownBy(() -> put("segment/a", "second")).isInstanceOf(StorageException.class);
        assertThat(read("segment/a", 0, 5)).isEqualTo("first");
    }

    @Test
    void anObjectPutAtOnceHoldsItsPartsInOrderAndIsNeverOverwritten() {
        ByteBuffer direct = ByteBuffer.allocateDirect(4).put(utf8("wal ")).flip();
        ByteBuffer partlyRead = utf8("xxobject");
        partlyRead.position(2);
        store.put("wal/1", direct, partlyRead, ByteBuffer.allocate(0));
        assertThat(store.size("wal/1")).isEqualTo(10);
        assertThat(read("wal/1", 0, 10)).isEqualTo("wal object");
        assertThat(direct.remaining()).as("the parts are left as they were").isEqualTo(4);
        assertThatThrownBy(() -> store.put("wal/1", utf8("again"))).isInstanceOf(StorageException.class);
        assertThatThrownBy(() -> store.put("wal/1", utf8("wal objecT"))).as("other bytes of the same size")
            .isInstanceOf(StorageException.class);
        assertThat(read("wal/1", 0, 10)).isEqualTo("wal object");
    }

    @Test
    void aReadAtMostFillsItsBuffersInOrderAndStopsWhereTheObjectEnds() {
        put("segment/a", "0123456789");
        ByteBuffer heap = ByteBuffer.allocate(4);
        ByteBuffer direct = ByteBuffer.allocateDirect(8);
        assertThat(store.readAtMost("segment/a", 3, heap, direct)).isEqualTo(7);
        assertThat(StandardCharsets.UTF_8.decode(heap.flip()).toString()).isEqualTo("3456");
        assertThat(StandardCharsets.UTF_8.decode(direct.flip()).toString()).isEqualTo("789");
        assertThat(store.readAtMost("segment/a", 10, ByteBuffer.allocate(4))).isZero();
        assertThatThrownBy(() -> store.readAtMost("segment/missing", 0, ByteBuffer.allocate(1)))
            .isInstanceOf(ObjectMissingException.class).hasMessageContaining("missing");
    }

    @Test
    void aWriterClosedBeforeItCompletedLeavesNothing() {
        try (ObjectWriter writer = store.create("segment/abandoned")) {
            writer.write(utf8("half"));
            assertThat(writer.size()).isEqualTo(4);
        }
        assertThat(store.list("segment/")).isEmpty();
    }

    @Test
    void aRangeOfAnotherObjectIsCopiedIntoANewOne() {
        put("wal/1", "0123456789");
        try (ObjectWriter writer = store.create("segment/copy")) {
            writer.write(utf8("<"));
            writer.writeFrom("wal/1", 3, 4);
            writer.write(utf8(">"));
            writer.complete();
        }
        assertThat(read("segment/copy", 0, 6)).isEqualTo("<3456>");
    }

    @Test
    void objectsAreListedByPrefixAndDeleted() {
        put("wal/1", "a");
        put("wal/2", "b");
        put("segment/3", "c");
        assertThat(store.list("wal/")).containsExactlyInAnyOrder("wal/1", "wal/2");
        assertThat(store.list("")).containsExactlyInAnyOrder("wal/1", "wal/2", "segment/3");
        store.delete("wal/1");
        store.delete("wal/1");
        assertThat(store.list("wal/")).containsExactly("wal/2");
    }

    @Test
    void manyObjectsAreDeletedAtOnceMissingOnesAmongThem() {
        put("wal/1", "a");
        put("wal/2", "b");
        put("segment/3", "c");
        store.deleteAll(java.util.List.of("wal/1", "wal/missing", "segment/3"));
        assertThat(store.list("")).containsExactly("wal/2");
        store.deleteAll(java.util.List.of());
        assertThat(store.list("")).containsExactly("wal/2");
    }

    @Test
    void aMissingObjectOrRangeIsAnError() {
        put("segment/a", "short");
        assertThatThrownBy(() -> store.size("segment/missing")).isInstanceOf(StorageException.class)
            .hasMessageContaining("missing");
        assertThatThrownBy(() -> store.read("segment/missing", 0, 1)).isInstanceOf(StorageException.class)
            .hasMessageContaining("missing");
        assertThatThrownBy(() -> store.read("segment/a", 3, 10)).isInstanceOf(StorageException.class);
    }
}
