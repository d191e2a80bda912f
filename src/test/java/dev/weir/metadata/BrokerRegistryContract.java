package dev.weir.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The broker registry: registering, heartbeats, leaving, and who holds a node id. Part of {@link MetadataStoreContract}. */
public interface BrokerRegistryContract extends StoreFixture {
    @Test
    default void brokersRegisterHeartbeatAndLeave() throws Exception {
        assertThat(store().brokers()).isEmpty();
        assertThat(store().register(new BrokerRegistration(1, "one", "host-1", 9092, "rack-a", 1_000), 0)).isNull();
        assertThat(store().register(new BrokerRegistration(2, "two", "host-2", 9093, null, 1_500), 0)).isNull();
        assertThat(store().heartbeat(1, "one", 2_000)).isTrue();
        assertThat(store().brokers()).containsExactly(new BrokerRegistration(1, "one", "host-1", 9092, "rack-a", 2_000),
            new BrokerRegistration(2, "two", "host-2", 9093, null, 1_500));

        store().unregister(1, "someone else");
        assertThat(store().brokers()).hasSize(2);
        store().unregister(1, "one");
        assertThat(store().brokers()).extracting(BrokerRegistration::nodeId).containsExactly(2);
        reopen();
        assertThat(store().brokers()).containsExactly(new BrokerRegistration(2, "two", "host-2", 9093, null, 1_500));
    }

    @Test
    default void aNodeIdHeldByAnotherInstanceIsTakenOnlyOnceItsHeartbeatIsOldEnough() {
        BrokerRegistration first = new BrokerRegistration(1, "first", "host-1", 9092, null, 1_000);
        BrokerRegistration second = new BrokerRegistration(1, "second", "host-2", 9092, null, 1_200);
        assertThat(store().register(first, 0)).isNull();

        assertThat(store().register(second, 999)).as("the holder, whose heartbeat is newer").isEqualTo(first);
        assertThat(store().heartbeat(1, "second", 1_300)).isFalse();
        assertThat(store().brokers()).containsExactly(first);

        assertThat(store().register(second, 1_000)).isNull();
        assertThat(store().heartbeat(1, "first", 1_400)).as("the first instance is fenced").isFalse();
        assertThat(store().heartbeat(1, "second", 1_400)).isTrue();
        assertThat(store().brokers()).containsExactly(new BrokerRegistration(1, "second", "host-2", 9092, null, 1_400));
    }

    @Test
    default void anInstanceRegisteringAgainReplacesItsOwnRegistration() {
        assertThat(store().register(new BrokerRegistration(3, "it", "host", 9092, null, 1_000), 0)).isNull();
        assertThat(store().register(new BrokerRegistration(3, "it", "host", 9094, "rack-b", 1_100), 0)).isNull();
        assertThat(store().brokers()).containsExactly(new BrokerRegistration(3, "it", "host", 9094, "rack-b", 1_100));
    }
}
