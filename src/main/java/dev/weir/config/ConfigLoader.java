package dev.weir.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds a {@link BrokerConfig} from an optional properties file, then environment variables: every
 * key can be set as {@code WEIR_} + the key upper-cased with dots as underscores, which wins over the
 * file. A {@code WEIR_} variable that names no key stops start-up, so a typo is never silently ignored.
 */
public final class ConfigLoader {
    /** Variables read by the launcher script, not by the broker. */
    private static final Set<String> LAUNCHER_VARIABLES = Set.of("WEIR_JAVA_OPTS", "WEIR_HOME", "WEIR_LOG_LEVEL");

    private ConfigLoader() {
    }

    public static String environmentName(String key) {
        return "WEIR_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    public static BrokerConfig load(Path file, Map<String, String> environment) {
        Map<String, String> settings = new TreeMap<>();
        if (file != null) {
            settings.putAll(readFile(file));
        }
        Map<String, String> byEnvironmentName = new TreeMap<>();
        for (String key : BrokerConfig.DEFINITION.names()) {
            byEnvironmentName.put(environmentName(key), key);
        }
        for (Map.Entry<String, String> variable : environment.entrySet()) {
            String name = variable.getKey();
            if (!name.startsWith("WEIR_") || LAUNCHER_VARIABLES.contains(name)) {
                continue;
            }
            String key = byEnvironmentName.get(name);
            if (key == null) {
                throw new InvalidConfigException(name, "environment variable names no configuration key");
            }
            settings.put(key, variable.getValue());
        }
        return BrokerConfig.of(settings);
    }

    private static Map<String, String> readFile(Path file) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new InvalidConfigException("Cannot read configuration file " + file + ": " + e.getMessage());
        }
        Map<String, String> settings = new TreeMap<>();
        for (String name : properties.stringPropertyNames()) {
            settings.put(name, properties.getProperty(name).trim());
        }
        return settings;
    }
}
