package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.runtime.FatalErrors;
import dev.weir.testing.BrokerProcess;
import dev.weir.testing.GroupRequests;
import dev.weir.testing.RawKafkaClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker whose heap runs out stops, with a non-zero exit status, rather than living on with dead
 * threads, accepting connections and answering nothing. The broker here runs without
 * -XX:+ExitOnOutOfMemoryError (which {@code ./weir} adds), so what is tested is Weir's own handling,
 * the one that also covers out-of-memory errors thrown by Java code (direct buffers), which that JVM
 * option does not see.
 */
class FatalErrorTest {
    /** 1 MB of metadata per member: just below group.max.member.metadata.bytes (1 MiB, with the protocol's name). */
    private static final int METADATA_BYTES = 1_000_000;
    private static final int THIRTY_MINUTES_MS = 30 * 60 * 1000;

    @TempDir
    Path dir;

    @Test
    void aBrokerWhoseHeapRunsOutExitsWithTheFatalStatus() throws Exception {
        // The group budget is lifted far above the heap, so that nothing stops the flood from filling it.
        try (BrokerProcess broker = new BrokerProcess(dir.resolve("data"), dir.resolve("broker.log"),
            Map.of("group.max.total.metadata.bytes", String.valueOf(1L << 40)), List.of("-Xms32m", "-Xmx64m"))) {
            broker.start(Duration.ofSeconds(60));
            // Members that keep 1 MB of metadata each for half an hour fill a 64 MB heap after a few dozen joins.
            byte[] metadata = new byte[METADATA_BYTES];
            try (RawKafkaClient client = new RawKafkaClient(broker.port(), Duration.ofSeconds(10))) {
                for (int i = 0; i < 1000 && broker.isAlive(); i++) {
                    client.send(GroupRequests.newMember("heavy-" + i, metadata, THIRTY_MINUTES_MS, (short) 3));
                }
            } catch (IOException connectionEnded) {
                // The broker halted (or stopped answering) in the middle of the flood.
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> !broker.isAlive());
            assertThat(broker.exitStatus()).isEqualTo(FatalErrors.EXIT_STATUS);
            assertThat(broker.logSinceStart()).contains("Fatal error in thread").contains("OutOfMemoryError");
        }
    }
}
