package dev.weir.log;

import dev.weir.log.format.Layout;
import dev.weir.log.append.WalWriter;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Object ids: unique across brokers, ordered by time, never going back. */
class ObjectIdsTest {
    private static long node(long id) {
        return (id >>> ObjectIds.SEQUENCE_BITS) & (ObjectIds.NODES - 1);
    }

    @Test
    void twoBrokersMakingIdsInTheSameMillisecondsNeverShareOne() {
        MutableClock clock = new MutableClock(1_800_000_000_000L);
        ObjectIds first = new ObjectIds(clock, 1, -1);
        ObjectIds second = new ObjectIds(clock, 2, -1);
        Set<Long> seen = new HashSet<>();
        for (int millisecond = 0; millisecond < 3; millisecond++) {
            // More ids than a millisecond's count holds, so some borrow from the next millisecond.
            for (int i = 0; i < 3000; i++) {
                long a = first.next();
                long b = second.next();
                assertThat(node(a)).isEqualTo(1);
                assertThat(node(b)).isEqualTo(2);
                assertThat(seen.add(a)).isTrue();
                assertThat(seen.add(b)).isTrue();
            }
            clock.advance(Duration.ofMillis(1));
        }
    }

    @Test
    void idsGrowWhateverTheClockDoesAndStartAboveThoseInUse() {
        MutableClock clock = new MutableClock(1_800_000_000_000L);
        long inUse = ((1_800_000_500_000L - ObjectIds.EPOCH_MILLIS) << (ObjectIds.NODE_BITS + ObjectIds.SEQUENCE_BITS)) + 7;
        ObjectIds ids = new ObjectIds(clock, 5, inUse);
        List<Long> made = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            made.add(ids.next());
            if (i % 500 == 0) {
                clock.advance(Duration.ofMillis(-3));
            }
        }
        assertThat(made.get(0)).isGreaterThan(inUse);
        assertThat(made).isSorted().doesNotHaveDuplicates();
        assertThat(made).allSatisfy(id -> assertThat(node(id)).isEqualTo(5));
        // Keys are zero-padded ids, so a new id's key sorts after the counters older data directories used.
        assertThat(Layout.objectKey(Layout.WAL_PREFIX, made.get(0))).isGreaterThan(Layout.objectKey(Layout.WAL_PREFIX, 99_999));
    }

    @Test
    void nodeIdsAreTakenModuloTheirBits() {
        MutableClock clock = new MutableClock(1_800_000_000_000L);
        assertThat(node(new ObjectIds(clock, ObjectIds.NODES + 3, -1).next())).isEqualTo(3);
    }
}
