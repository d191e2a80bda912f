package dev.weir;

import dev.weir.config.BrokerConfig;
import dev.weir.config.ConfigLoader;
import dev.weir.config.InvalidConfigException;
import dev.weir.runtime.FatalErrors;
import dev.weir.server.Broker;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code weir} command line. */
@Command(name = "weir", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "A streaming platform that speaks the Kafka protocol.",
    subcommands = {Main.Server.class, CommandLine.HelpCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    /** {@code weir server}: runs a single node until interrupted. */
    @Command(name = "server", mixinStandardHelpOptions = true,
        description = "Run a single-node broker. Settings come from the optional properties file and from "
            + "WEIR_* environment variables (WEIR_ + the key upper-cased, dots as underscores), which win.")
    static final class Server implements Callable<Integer> {
        @Option(names = {"-c", "--config"}, description = "A properties file with broker settings.")
        Path configFile;

        @Override
        public Integer call() throws Exception {
            long startNanos = System.nanoTime();
            FatalErrors.haltOnUncaughtFatalErrors();
            BrokerConfig config;
            try {
                config = ConfigLoader.load(configFile, System.getenv());
            } catch (InvalidConfigException e) {
                System.err.println("weir: " + e.getMessage());
                return 2;
            }
            Broker broker;
            try {
                broker = new Broker(config, Clock.systemUTC());
            } catch (Exception | Error e) {
                System.err.println("weir: could not start: " + e);
                e.printStackTrace();
                return 1;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                broker.close();
                stopped.countDown();
            }, "weir-shutdown"));
            long startedMs = (System.nanoTime() - startNanos) / 1_000_000;
            System.out.printf("Weir is serving Kafka clients on %s://%s:%d (listener %s), data in %s, started in %d ms%n",
                broker.advertised().name(), broker.advertised().host(), broker.advertised().port(),
                config.listener().host() + ":" + broker.port(), broker.dataDir(), startedMs);
            System.out.flush();
            stopped.await();
            return 0;
        }
    }

    /** Reads the version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"weir " + (version == null ? "development build" : version)};
        }
    }
}
