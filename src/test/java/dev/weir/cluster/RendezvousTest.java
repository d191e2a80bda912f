package dev.weir.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/** Rendezvous hashing: spread, stability when a broker leaves, and the same answer in any input order. */
class RendezvousTest {
    @Test
    void partitionsSpreadOverTheBrokersAndOnlyALeavingBrokersMove() {
        Uuid topic = Uuid.randomUuid();
        List<Integer> three = List.of(0, 1, 2);
        List<Integer> two = List.of(0, 2);
        Map<Integer, Integer> led = new HashMap<>();
        int moved = 0;
        for (int partition = 0; partition < 3000; partition++) {
            int leader = Rendezvous.order(topic, partition, three).get(0);
            led.merge(leader, 1, Integer::sum);
            int afterwards = Rendezvous.order(topic, partition, two).get(0);
            if (leader != 1) {
                assertThat(afterwards).as("partition %d, led by a broker that stays", partition).isEqualTo(leader);
            } else {
                moved++;
            }
        }
        assertThat(led.keySet()).containsExactlyInAnyOrder(0, 1, 2);
        led.values().forEach(count -> assertThat(count).isBetween(800, 1200));
        assertThat(moved).isEqualTo(led.get(1));
    }

    @Test
    void theOrderDoesNotDependOnHowTheBrokersAreListed() {
        Uuid topic = Uuid.randomUuid();
        List<Integer> reversed = new ArrayList<>(List.of(4, 3, 2, 1));
        for (int partition = 0; partition < 100; partition++) {
            List<Integer> order = Rendezvous.order(topic, partition, List.of(1, 2, 3, 4));
            assertThat(Rendezvous.order(topic, partition, reversed)).isEqualTo(order);
            assertThat(order).containsExactlyInAnyOrder(1, 2, 3, 4);
        }
        for (int group = 0; group < 100; group++) {
            assertThat(Rendezvous.owner("group-" + group, reversed))
                .isEqualTo(Rendezvous.owner("group-" + group, List.of(1, 2, 3, 4)));
        }
    }

    @Test
    void groupsSpreadOverTheBrokers() {
        Map<Integer, Integer> owned = new HashMap<>();
        for (int group = 0; group < 3000; group++) {
            owned.merge(Rendezvous.owner("group-" + group, List.of(0, 1, 2)), 1, Integer::sum);
        }
        assertThat(owned.keySet()).containsExactlyInAnyOrder(0, 1, 2);
        owned.values().forEach(count -> assertThat(count).isBetween(800, 1200));
    }
}
