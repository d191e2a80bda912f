package dev.weir.config;

import java.util.Locale;

/** One listener, NAME://host:port. An empty host means every interface. */
public record Listener(String name, String host, int port) {
    public static Listener parse(String key, String value) {
        int scheme = value.indexOf("://");
        int colon = value.lastIndexOf(':');
        if (scheme <= 0 || colon <= scheme + 2) {
            throw new InvalidConfigException(key, "expected NAME://host:port, got '" + value + "'");
        }
        String name = value.substring(0, scheme).toUpperCase(Locale.ROOT);
        if (!name.equals("PLAINTEXT")) {
            throw new InvalidConfigException(key, "only PLAINTEXT listeners are implemented, got '" + value + "'");
        }
        String host = value.substring(scheme + 3, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new InvalidConfigException(key, "bad port in '" + value + "'");
        }
        if (port < 0 || port > 65535) {
            throw new InvalidConfigException(key, "port out of range in '" + value + "'");
        }
        return new Listener(name, host, port);
    }

    public Listener withPort(int boundPort) {
        return new Listener(name, host, boundPort);
    }
}
