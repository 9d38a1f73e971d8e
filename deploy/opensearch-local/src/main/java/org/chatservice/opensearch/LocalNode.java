package org.chatservice.opensearch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.unit.TimeValue;
import org.opensearch.env.Environment;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Single-node OpenSearch 2.19 started from plain Maven artifacts, for local and CI search tests.
 *
 * <p>Bypasses the standard Bootstrap (which refuses to run as root, installs the security manager
 * and runs production bootstrap checks). Plugins are loaded from the classpath, like OpenSearch's
 * own test MockNode does, via the protected {@link Node} constructor.
 *
 * <p>Usage: {@code java -cp 'target/classes:target/lib/*' org.chatservice.opensearch.LocalNode [httpPort] [dataDir] [key=value ...]}
 * (defaults: env OPENSEARCH_PORT or 9200, env OPENSEARCH_LOCAL_DIR or /tmp/opensearch-local-PORT).
 * Transport port = httpPort + 100 (override with env OPENSEARCH_TRANSPORT_PORT). Extra {@code key=value}
 * arguments are added as node settings (like {@code -E} of the standard launcher).
 */
public final class LocalNode {

    /** Node subclass exposing the constructor that accepts classpath plugins. */
    static final class ClasspathPluginsNode extends Node {
        ClasspathPluginsNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    private LocalNode() {}

    public static void main(String[] args) throws Exception {
        int httpPort = Integer.parseInt(args.length > 0 ? args[0] : env("OPENSEARCH_PORT", "9200"));
        Path home = Paths.get(args.length > 1 ? args[1] : env("OPENSEARCH_LOCAL_DIR", "/tmp/opensearch-local-" + httpPort))
            .toAbsolutePath();
        int transportPort = Integer.parseInt(env("OPENSEARCH_TRANSPORT_PORT", String.valueOf(httpPort + 100)));

        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));
        Files.createDirectories(home.resolve("plugins"));
        Files.createDirectories(home.resolve("config"));
        // Marker written once the node is fully set up; the launcher script waits for it.
        Path readyFile = home.resolve("opensearch.ready");
        Files.deleteIfExists(readyFile);

        Settings settings = Settings.builder()
            .put("cluster.name", "opensearch-local")
            .put("node.name", "local-" + httpPort)
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", transportPort)
            .put("discovery.type", "single-node")
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put(extraSettings(args))
            .build();

        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), home.resolve("config"), () -> "local-" + httpPort);

        List<Class<? extends Plugin>> plugins = List.of(
            Netty4Plugin.class,          // HTTP + transport (module transport-netty4)
            CommonAnalysisPlugin.class,  // ngram/edge_ngram tokenizers, lowercase/asciifolding filters... (module analysis-common)
            ReindexPlugin.class,         // _reindex, _delete_by_query, _update_by_query (module reindex)
            PainlessPlugin.class);       // painless scripts (module lang-painless)
        Logger logger = LogManager.getLogger(LocalNode.class);

        Node node = new ClasspathPluginsNode(environment, plugins);
        CountDownLatch stopped = new CountDownLatch(1);

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            logger.info("shutdown requested, closing node");
            try {
                Files.deleteIfExists(readyFile);
                node.close();
                if (!node.awaitClose(30, TimeUnit.SECONDS)) {
                    logger.warn("node did not close within 30s");
                }
                logger.info("node closed");
            } catch (Exception e) {
                logger.error("error while closing node", e);
            } finally {
                stopped.countDown();
                // log4j's own shutdown hook is disabled by -Dlog4j.shutdownHookEnabled=false so the
                // messages above still get written; stop it last.
                LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
                ctx.stop();
            }
        }, "opensearch-local-shutdown"));

        try {
            node.start();
        } catch (Throwable t) {
            logger.error("failed to start node", t);
            System.exit(1);
        }
        // Single node: replicas can never be assigned, so default new indices to 0 replicas (green health).
        // This setting is only honoured from cluster-state metadata, not from node settings, hence the API call.
        if (!"false".equals(env("OPENSEARCH_ZERO_REPLICAS", "true"))) {
            node.client().admin().cluster().prepareUpdateSettings()
                .setPersistentSettings(Settings.builder().put("cluster.default_number_of_replicas", 0))
                .get(TimeValue.timeValueSeconds(30));
        }
        Files.writeString(readyFile, ProcessHandle.current().pid() + "\n");
        logger.info("OpenSearch local node started: http://127.0.0.1:{} (transport {}), home {}", httpPort, transportPort, home);

        // Keep a non-daemon thread alive until shutdown (as OpenSearch's Bootstrap does).
        stopped.await();
    }

    private static Settings extraSettings(String[] args) {
        Settings.Builder b = Settings.builder();
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected key=value setting, got: " + args[i]);
            }
            b.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        return b.build();
    }

    private static String env(String name, String def) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? def : v;
    }
}
