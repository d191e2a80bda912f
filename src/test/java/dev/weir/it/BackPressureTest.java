package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.TestBroker;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A client that sends without ever reading cannot make the broker buffer without bound. */
class BackPressureTest {
    @TempDir
    Path dataDir;

    @Test
    void aClientThatNeverReadsIsStoppedWhileOthersAreServed() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir, Map.of("connection.max.inflight.requests", "8"));
             Admin admin = Admin.create(broker.clientProperties());
             Socket greedy = new Socket("127.0.0.1", broker.port())) {
            greedy.setReceiveBufferSize(4096);
            MetadataRequest request = new MetadataRequest(new MetadataRequestData().setTopics(null), (short) 12);
            ByteBuffer frame = request.serializeWithHeader(new RequestHeader(ApiKeys.METADATA, (short) 12, "greedy", 1));
            byte[] bytes = new byte[4 + frame.remaining()];
            ByteBuffer.wrap(bytes).putInt(frame.remaining()).put(frame);
            AtomicLong sent = new AtomicLong();
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = greedy.getOutputStream();
                    while (true) {
                        out.write(bytes);
                        sent.incrementAndGet();
                    }
                } catch (Exception closed) {
                    // The socket is closed when the test ends.
                }
            });
            writer.setDaemon(true);
            writer.start();
            long settled = -1;
            for (int i = 0; i < 100; i++) {
                Thread.sleep(100);
                long now = sent.get();
                if (now == settled) {
                    break;
                }
                settled = now;
            }
            Thread.sleep(1000);
            assertThat(sent.get()).as("the broker stopped reading, so the writer blocked").isEqualTo(settled);
            assertThat(settled).isLessThan(1_000_000);
            assertThat(admin.describeCluster().nodes().get()).hasSize(1);
            assertThat(admin.listTopics().names().get()).isEqualTo(java.util.Set.copyOf(List.<String>of()));
        }
    }
}
