package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.BrokerProcess;
import dev.weir.testing.RawKafkaClient;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that connects while the broker starts (its port is bound before it can serve, so that it
 * knows the port it advertises) waits for its first answer instead of seeing the connection closed:
 * clients that do not retry, such as kcat, work from the moment the port opens.
 */
class StartupTest {
    @TempDir
    Path dir;

    @Test
    void connectionsMadeWhileTheBrokerStartsAreAnsweredOnceItServes() throws Exception {
        try (BrokerProcess broker = new BrokerProcess(dir.resolve("data"), dir.resolve("broker.log"))) {
            broker.start(Duration.ofSeconds(60));
            broker.stop();
            // A first start, which creates the data directory, takes the longest.
            try (var files = Files.walk(dir.resolve("data"))) {
                files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
            }
            CompletableFuture<Void> started = CompletableFuture.runAsync(() -> {
                try {
                    broker.restartOnSamePort(Duration.ofSeconds(60));
                } catch (IOException | InterruptedException e) {
                    throw new CompletionException(e);
                }
            });
            int connectedWhileStarting = 0;
            while (!started.isDone()) {
                RawKafkaClient client;
                try {
                    client = new RawKafkaClient(broker.port());
                } catch (ConnectException notBoundYet) {
                    Thread.onSpinWait();
                    continue;
                }
                if (!started.isDone()) {
                    connectedWhileStarting++;
                }
                try (client) {
                    // Sent at once on connecting: a broker that read it before it could serve closed the connection.
                    ApiVersionsResponse response = (ApiVersionsResponse) client.send(
                        new ApiVersionsRequest.Builder(new ApiVersionsRequestData().setClientSoftwareName("startup-test")
                            .setClientSoftwareVersion("1"), (short) 3, (short) 3).build());
                    assertThat(Errors.forCode(response.data().errorCode())).isEqualTo(Errors.NONE);
                    assertThat(response.data().apiKeys()).isNotEmpty();
                }
            }
            started.get(60, TimeUnit.SECONDS);
            assertThat(connectedWhileStarting).as("connections made before the broker said it was ready")
                .isPositive();
        }
    }
}
