package dev.weir.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real file system of a few MiB (tmpfs, which allocates on write and answers ENOSPC when full),
 * mounted on a directory of its own, so a broker's data directory can run out of space. Mounting
 * needs root, as CI has. Files of the test's own fill it up and free it again. Not thread-safe.
 */
public final class SmallFileSystem implements AutoCloseable {
    private static final int CHUNK_BYTES = 64 * 1024;
    private static final int PAGE_BYTES = 4096;

    private final Path mountPoint;

    private SmallFileSystem(Path mountPoint) {
        this.mountPoint = mountPoint;
    }

    /** Mounts a tmpfs of {@code sizeMiB} on {@code mountPoint}, an empty directory. */
    public static SmallFileSystem mount(Path mountPoint, int sizeMiB) throws IOException {
        run(List.of("mount", "-t", "tmpfs", "-o", "size=" + sizeMiB + "m", "tmpfs", mountPoint.toString()));
        return new SmallFileSystem(mountPoint);
    }

    public Path path() {
        return mountPoint;
    }

    /** Bytes an unprivileged write could still take. */
    public long freeBytes() throws IOException {
        return Files.getFileStore(mountPoint).getUsableSpace();
    }

    /** Writes a file of {@code bytes} (whole pages) under the mount, to be deleted later to free that much. */
    public Path reserve(String name, long bytes) throws IOException {
        Path file = mountPoint.resolve(name);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES);
            for (long written = 0; written < bytes; ) {
                chunk.clear().limit((int) Math.min(CHUNK_BYTES, bytes - written));
                written += channel.write(chunk);
            }
        }
        return file;
    }

    /**
     * Writes a file of the test's own until the file system is full (the write gets ENOSPC), and
     * returns it; deleting it gives the space back.
     */
    public Path fill(String name) throws IOException {
        Path file = mountPoint.resolve(name);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            writeUntilFull(channel, ByteBuffer.allocate(CHUNK_BYTES));
            // Then page by page, for what is left after the last whole chunk.
            writeUntilFull(channel, ByteBuffer.allocate(PAGE_BYTES));
        }
        return file;
    }

    private static void writeUntilFull(FileChannel channel, ByteBuffer chunk) {
        while (true) {
            chunk.clear();
            try {
                while (chunk.hasRemaining()) {
                    channel.write(chunk);
                }
            } catch (IOException noSpace) {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        run(List.of("umount", mountPoint.toString()));
    }

    private static void run(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new java.io.InterruptedIOException("interrupted while running " + String.join(" ", command));
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed with status " + process.exitValue() + ": "
                + output);
        }
    }
}
