import java.net.URI;
import java.util.Arrays;
import java.util.Random;

import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Times S3 requests as a client sees them, with the AWS SDK and the settings Weir's S3 object store uses
 * (path-style, checksums only where required, a PUT that never overwrites, ranged GETs): bench/run
 * --cluster runs it against S3Proxy after the cluster shape's turn, and bench/cluster.py sets its times
 * against S3Proxy's own for the same requests, which leaves the client's own time per request (signing,
 * the HTTP client, parsing). Compiled once per run against Weir's libraries:
 *
 * <pre>javac -d CLASSES -cp 'target/lib/*' bench/BenchS3Probe.java
 *     java -cp 'CLASSES:target/lib/*' BenchS3Probe ENDPOINT BUCKET KEY_PREFIX ACCESS_KEY SECRET_KEY OBJECTS OBJECT_BYTES</pre>
 *
 * Puts OBJECTS objects of OBJECT_BYTES under KEY_PREFIX, reading each back right after with a ranged GET of
 * all but its first 100 bytes, as a fetch reads a batch out of a WAL object; three passes, the first two to
 * warm up the JIT and the connections. Prints the last pass: one summary line for PUT and one for GET.
 */
public final class BenchS3Probe {
    private static final int PASSES = 3;

    public static void main(String[] args) {
        if (args.length != 7) {
            System.err.println("usage: BenchS3Probe ENDPOINT BUCKET KEY_PREFIX ACCESS_KEY SECRET_KEY OBJECTS OBJECT_BYTES");
            System.exit(2);
        }
        // The SDK's and the HTTP client's debug logging would be timed too: warnings only.
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
            .setLevel(ch.qos.logback.classic.Level.WARN);
        String bucket = args[1];
        int objects = Integer.parseInt(args[5]);
        byte[] bytes = new byte[Integer.parseInt(args[6])];
        new Random(42).nextBytes(bytes);
        long[] puts = new long[objects];
        long[] gets = new long[objects];
        try (S3Client client = S3Client.builder().endpointOverride(URI.create(args[0])).region(Region.US_EAST_1)
            .forcePathStyle(true)
            .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(args[3], args[4])))
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .build()) {
            for (int pass = 0; pass < PASSES; pass++) {
                for (int i = 0; i < objects; i++) {
                    String key = args[2] + pass + "-" + i;
                    long start = System.nanoTime();
                    client.putObject(request -> request.bucket(bucket).key(key).ifNoneMatch("*"), RequestBody.fromBytes(bytes));
                    long put = System.nanoTime();
                    client.getObjectAsBytes(request -> request.bucket(bucket).key(key).range("bytes=100-" + (bytes.length - 1)));
                    puts[i] = put - start;
                    gets[i] = System.nanoTime() - put;
                }
            }
        }
        summary("PUT", puts);
        summary("GET", gets);
    }

    private static void summary(String name, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.printf("%s ms: avg %.3f, p50 %.3f, p99 %.3f, requests %d%n", name,
            Arrays.stream(sorted).average().orElse(0) / 1e6, sorted[sorted.length / 2] / 1e6,
            sorted[Math.min(sorted.length - 1, (int) Math.ceil(0.99 * sorted.length) - 1)] / 1e6, sorted.length);
    }
}
