package dev.weir.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    @Test
    void defaultsListenOnLoopbackPort9092() {
        BrokerConfig config = ConfigLoader.load(null, Map.of());
        assertThat(config.listener()).isEqualTo(new Listener("PLAINTEXT", "127.0.0.1", 9092));
        assertThat(config.advertisedListener()).isEqualTo(config.listener());
        assertThat(config.dataDir()).isEqualTo(Path.of("weir-data").toAbsolutePath());
        assertThat(config.defaultRetentionMs()).isEqualTo(168 * 3_600_000L);
    }

    @Test
    void environmentOverridesTheFile() throws Exception {
        Path file = dir.resolve("weir.properties");
        Files.writeString(file, "listeners=PLAINTEXT://127.0.0.1:9093\nnum.partitions=4\nlog.dirs=/tmp/a\n");
        BrokerConfig config = ConfigLoader.load(file, Map.of(
            "WEIR_LISTENERS", "PLAINTEXT://127.0.0.1:19092",
            "WEIR_LOG_DIRS", "/var/lib/weir",
            "WEIR_AUTO_CREATE_TOPICS_ENABLE", "false",
            "PATH", "/usr/bin"));
        assertThat(config.listener().port()).isEqualTo(19092);
        assertThat(config.dataDir()).isEqualTo(Path.of("/var/lib/weir"));
        assertThat(config.getBoolean(BrokerConfig.AUTO_CREATE_TOPICS_ENABLE)).isFalse();
        assertThat(config.getInt(BrokerConfig.NUM_PARTITIONS)).isEqualTo(4);
        assertThat(config.isExplicit(BrokerConfig.NUM_PARTITIONS)).isTrue();
        assertThat(config.isExplicit(BrokerConfig.MESSAGE_MAX_BYTES)).isFalse();
    }

    @Test
    void unknownKeysAndBadValuesNameTheKey() throws Exception {
        Path file = dir.resolve("bad.properties");
        Files.writeString(file, "num.partitionz=3\n");
        assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
            .isInstanceOf(InvalidConfigException.class).hasMessageContaining("num.partitionz");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("WEIR_NUM_PARTITIONZ", "3")))
            .isInstanceOf(InvalidConfigException.class).hasMessageContaining("WEIR_NUM_PARTITIONZ");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("WEIR_NUM_PARTITIONS", "many")))
            .isInstanceOf(InvalidConfigException.class).hasMessageContaining("num.partitions");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("WEIR_NUM_PARTITIONS", "0")))
            .isInstanceOf(InvalidConfigException.class).hasMessageContaining("num.partitions");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("WEIR_SOCKET_SEND_BUFFER_BYTES", "-2")))
            .isInstanceOf(InvalidConfigException.class).hasMessageContaining("socket.send.buffer.bytes");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("WEIR_LISTENERS", "SSL://127.0.0.1:9093")))
            .isInstanceOf(InvalidConfigException.class).hasMessageContaining("listeners");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("WEIR_DEFAULT_REPLICATION_FACTOR", "3")))
            .isInstanceOf(InvalidConfigException.class).hasMessageContaining("default.replication.factor");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("WEIR_NODE_ID", "4096")))
            .isInstanceOf(InvalidConfigException.class).hasMessageContaining("node.id");
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("missing.properties"), Map.of()))
            .isInstanceOf(InvalidConfigException.class).hasMessageContaining("missing.properties");
    }

    @Test
    void environmentNamesFollowTheRule() {
        assertThat(ConfigLoader.environmentName("auto.create.topics.enable")).isEqualTo("WEIR_AUTO_CREATE_TOPICS_ENABLE");
        assertThat(ConfigLoader.environmentName("log.dirs")).isEqualTo("WEIR_LOG_DIRS");
    }
}
