package dev.weir.storage.local;

import dev.weir.storage.FileAccess;
import dev.weir.storage.ObjectMissingException;
import dev.weir.storage.ObjectStore;
import dev.weir.storage.ObjectWriter;
import dev.weir.storage.StorageException;
import dev.weir.storage.WalFile;
import dev.weir.storage.WalFileStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Objects as files under one directory; a key's slashes are subdirectories. A completed object's
 * file and directory are fsynced, so both the bytes and the name survive a crash. A WAL file is
 * filled with zeros to its capacity and synced when it is created, so a write into it changes neither
 * the file's size nor its allocation and its fdatasync carries the data alone: no file-system journal
 * commit, which would queue behind every other sync on the disk. Reads are positional and share one
 * open channel per object (at most {@link #MAX_OPEN_FILES} open at once). A WAL file that would take
 * more than half of the free space is made smaller where its caller allows. Thread-safe.
 *
 * <p>The zeros go straight to the disk (O_DIRECT) where the file system allows it: through the page
 * cache they cost a copy into a fresh page per 4 KiB, several seconds of CPU per GB on a virtual
 * machine, and fill the cache with pages nobody reads. Writers then write whole pages only (see
 * {@link WalFile}), so no write has to read the rest of a page the cache does not hold.
 */
public final class LocalObjectStore implements ObjectStore, FileAccess, WalFileStore {
    private static final int MAX_OPEN_FILES = 512;
    /** WAL writes up to this size are staged in one direct buffer per writing thread (kept for reuse). */
    private static final int MAX_STAGING_BYTES = 64 * 1024 * 1024;
    /**
     * Written over a new WAL file's whole capacity; never changed. Aligned for direct I/O, whose buffers,
     * positions and lengths must be multiples of the block size: {@link WalFile#ALIGNMENT} on every common device.
     */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect((4 << 20) + WalFile.ALIGNMENT)
        .alignedSlice(WalFile.ALIGNMENT);
    private static final ThreadLocal<ByteBuffer> WRITE_BUFFER = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(1 << 20));

    private final Path root;
    private final Map<String, FileChannel> open = new ConcurrentHashMap<>();
    /** Cleared once the file system refuses direct I/O (tmpfs, some network file systems). */
    private volatile boolean directZeroFill;

    public LocalObjectStore(Path root) {
        this(root, true);
    }

    /** With {@code directZeroFill} false, WAL files are zero-filled through the page cache, as where O_DIRECT is refused. */
    LocalObjectStore(Path root, boolean directZeroFill) {
        this.root = root;
        this.directZeroFill = directZeroFill;
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new StorageException("cannot create object directory " + root, e);
        }
    }

    private Path path(String key) {
        if (key.isEmpty() || key.contains("..") || key.startsWith("/")) {
            throw new IllegalArgumentException("bad object key " + key);
        }
        return root.resolve(key);
    }

    private static void createParent(Path file) throws IOException {
        Path directory = file.getParent();
        if (!Files.isDirectory(directory)) {
            Files.createDirectories(directory);
            syncDirectory(directory.getParent());
        }
    }

    @Override
    public WalFile createWalFile(String key, long capacity, long minCapacity) {
        Path file = path(key);
        FileChannel channel = null;
        // Only a file made here is deleted on failure: one that existed already is not this call's to remove.
        boolean created = false;
        try {
            createParent(file);
            long size = capacityThatFits(file, capacity, minCapacity);
            if (directZeroFill && zeroFillDirect(file, size)) {
                created = true;
            } else {
                try (FileChannel buffered = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    created = true;
                    writeZeros(buffered, size);
                    buffered.force(true);
                }
            }
            channel = FileChannel.open(file, StandardOpenOption.WRITE);
            syncDirectory(file.getParent());
            return new LocalWalFile(key, channel, size);
        } catch (IOException e) {
            if (channel != null) {
                closeQuietly(channel);
            }
            if (created) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // A WAL file that was never committed is deleted at the next start.
                }
            }
            throw new StorageException("creating WAL file " + key + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * {@code capacity} if the file would take at most half of the free space, else the largest half,
     * quarter, ... of it that would (but not less than {@code minCapacity}, which only has to fit): a
     * nearly full disk keeps room for the metadata database, whose commits need it as much, and for the
     * next files. Checked before a byte is written, so a file that does not fit never takes the last
     * free space for the moment its zeros are being written. Space the file system keeps for root is
     * not counted: it is there for an operator repairing a full disk.
     */
    private static long capacityThatFits(Path file, long capacity, long minCapacity) throws IOException {
        long free = Files.getFileStore(file.getParent()).getUsableSpace();
        long size = capacity;
        while (size > minCapacity && WalFile.aligned(size) > free / 2) {
            size = Math.max(minCapacity, WalFile.aligned(size / 2));
        }
        if (WalFile.aligned(size) > free) {
            throw new IOException("no room for " + size + " bytes: " + free + " bytes are free");
        }
        return size;
    }

    /**
     * Creates the file with its capacity (rounded up to whole blocks) of zeros written by direct I/O and
     * synced; false, with no file left, if this file system does not take direct I/O.
     */
    private boolean zeroFillDirect(Path file, long capacity) throws IOException {
        FileChannel direct;
        try {
            direct = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                com.sun.nio.file.ExtendedOpenOption.DIRECT);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw e;
        } catch (UnsupportedOperationException | IOException e) {
            // EINVAL from a file system without O_DIRECT, which may have created the file all the same.
            Files.deleteIfExists(file);
            directZeroFill = false;
            return false;
        }
        try (direct) {
            writeZeros(direct, WalFile.aligned(capacity));
            direct.force(true);
            return true;
        } catch (IOException e) {
            // Refused at the write instead; a real I/O failure happens again on the buffered way and is reported.
            Files.deleteIfExists(file);
            return false;
        }
    }

    private static void writeZeros(FileChannel channel, long length) throws IOException {
        ByteBuffer zeros = ZEROS.duplicate();
        for (long position = 0; position < length; position += zeros.capacity()) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), length - position));
            while (zeros.hasRemaining()) {
                channel.write(zeros, position + zeros.position());
            }
        }
    }

    private static final class LocalWalFile implements WalFile {
        private final String key;
        private final FileChannel channel;
        private final long capacity;

        LocalWalFile(String key, FileChannel channel, long capacity) {
            this.key = key;
            this.channel = channel;
            this.capacity = capacity;
        }

        @Override
        public String key() {
            return key;
        }

        @Override
        public long capacity() {
            return capacity;
        }

        @Override
        public void write(long position, ByteBuffer[] parts) {
            long total = 0;
            for (ByteBuffer part : parts) {
                total += part.remaining();
            }
            if (position < 0 || position + total > capacity) {
                throw new IllegalArgumentException("write of " + total + " bytes at " + position + " outside WAL file "
                    + key + " of " + capacity + " bytes");
            }
            try {
                writeFully(channel, position, parts, total);
                channel.force(false);
            } catch (IOException e) {
                throw new StorageException("writing WAL file " + key + " failed: " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            closeQuietly(channel);
        }
    }

    @Override
    public ObjectWriter create(String key) {
        Path file = path(key);
        try {
            createParent(file);
            return new FileWriter(key, file, FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
        } catch (IOException e) {
            throw new StorageException("creating object " + key + " failed: " + e.getMessage(), e);
        }
    }

    /** Writes through the page cache; completing fsyncs the file and then its directory. */
    private final class FileWriter implements ObjectWriter {
        private final String key;
        private final Path file;
        private final FileChannel channel;
        private long size;
        private boolean completed;

        FileWriter(String key, Path file, FileChannel channel) {
            this.key = key;
            this.file = file;
            this.channel = channel;
        }

        @Override
        public void write(ByteBuffer data) {
            try {
                while (data.hasRemaining()) {
                    size += channel.write(data);
                }
            } catch (IOException e) {
                throw new StorageException("writing object " + key + " failed: " + e.getMessage(), e);
            }
        }

        @Override
        public void writeFrom(String sourceKey, long position, long length) {
            // A channel of its own: a shared one may be closed by the cache's eviction mid-copy.
            try (FileChannel source = FileChannel.open(path(sourceKey), StandardOpenOption.READ)) {
                long done = 0;
                while (done < length) {
                    long moved = source.transferTo(position + done, length - done, channel);
                    if (moved <= 0 && position + done >= source.size()) {
                        throw new StorageException("object " + sourceKey + " ends before byte " + (position + length));
                    }
                    done += moved;
                }
                size += length;
            } catch (NoSuchFileException e) {
                throw new ObjectMissingException(sourceKey, e);
            } catch (IOException e) {
                throw new StorageException("copying from " + sourceKey + " into " + key + " failed: " + e.getMessage(), e);
            }
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void complete() {
            try {
                channel.force(true);
                channel.close();
                syncDirectory(file.getParent());
                completed = true;
            } catch (IOException e) {
                throw new StorageException("writing object " + key + " failed: " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            if (completed) {
                return;
            }
            closeQuietly(channel);
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // An uncommitted object left behind is deleted at the next start.
            }
        }
    }

    /**
     * Copies the parts into this thread's direct buffer and writes that: a gathering write of many heap
     * buffers makes the JDK allocate a temporary direct buffer per part, which is far slower. {@code total}
     * is the parts' bytes, which the caller has counted already.
     */
    private static void writeFully(FileChannel channel, long position, ByteBuffer[] parts, long total) throws IOException {
        ByteBuffer staging = WRITE_BUFFER.get();
        if (staging.capacity() < total && total <= MAX_STAGING_BYTES) {
            staging = ByteBuffer.allocateDirect((int) Math.max(total, staging.capacity() * 2L));
            WRITE_BUFFER.set(staging);
        }
        if (total > staging.capacity()) {
            long at = position;
            for (ByteBuffer part : parts) {
                ByteBuffer remaining = part.duplicate();
                while (remaining.hasRemaining()) {
                    at += channel.write(remaining, at);
                }
            }
            return;
        }
        staging.clear();
        for (ByteBuffer part : parts) {
            staging.put(part.duplicate());
        }
        staging.flip();
        while (staging.hasRemaining()) {
            channel.write(staging, position + staging.position());
        }
    }

    private static void syncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    @Override
    public void readInto(String key, long position, ByteBuffer target) {
        int start = target.position();
        long end = position + target.remaining();
        for (int attempt = 1; ; attempt++) {
            try {
                FileChannel channel = channel(key);
                while (target.hasRemaining()) {
                    int read = channel.read(target, position + target.position() - start);
                    if (read < 0) {
                        throw new StorageException("object " + key + " ends before byte " + end);
                    }
                }
                return;
            } catch (java.nio.channels.ClosedChannelException e) {
                // Another thread evicted the shared channel from the cache meanwhile: open it again.
                if (attempt == 3 || Thread.currentThread().isInterrupted()) {
                    throw new StorageException("reading object " + key + " failed: its channel was closed", e);
                }
            } catch (NoSuchFileException e) {
                throw new ObjectMissingException(key, e);
            } catch (IOException e) {
                throw new StorageException("reading object " + key + " failed: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public java.util.Optional<FileAccess> files() {
        return java.util.Optional.of(this);
    }

    @Override
    public java.util.Optional<WalFileStore> walFiles() {
        return java.util.Optional.of(this);
    }

    @Override
    public long size(String key) {
        try {
            return Files.size(path(key));
        } catch (NoSuchFileException e) {
            throw new ObjectMissingException(key, e);
        } catch (IOException e) {
            throw new StorageException("reading the size of object " + key + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public FileChannel openChannel(String key) {
        try {
            return FileChannel.open(path(key), StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ObjectMissingException(key, e);
        } catch (IOException e) {
            throw new StorageException("opening object " + key + " failed: " + e.getMessage(), e);
        }
    }

    private FileChannel channel(String key) throws IOException {
        FileChannel channel = open.get(key);
        if (channel != null && channel.isOpen()) {
            return channel;
        }
        if (open.size() >= MAX_OPEN_FILES) {
            evictSome();
        }
        FileChannel opened = FileChannel.open(path(key), StandardOpenOption.READ);
        FileChannel raced = open.putIfAbsent(key, opened);
        if (raced != null && raced.isOpen()) {
            opened.close();
            return raced;
        }
        open.put(key, opened);
        return opened;
    }

    private void evictSome() {
        Iterator<Map.Entry<String, FileChannel>> entries = open.entrySet().iterator();
        for (int i = 0; i < MAX_OPEN_FILES / 4 && entries.hasNext(); i++) {
            Map.Entry<String, FileChannel> entry = entries.next();
            entries.remove();
            closeQuietly(entry.getValue());
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // A read-only channel has nothing to flush; failing to close it loses nothing.
        }
    }

    @Override
    public List<String> list(String prefix) {
        List<String> keys = new ArrayList<>();
        // Only the directory the prefix names is walked ("wal/" lists objects/wal, not the segments too).
        Path directory = root.resolve(prefix.substring(0, prefix.lastIndexOf('/') + 1));
        if (!Files.isDirectory(directory)) {
            return keys;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            files.filter(Files::isRegularFile).forEach(file -> {
                String key = root.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
                if (key.startsWith(prefix)) {
                    keys.add(key);
                }
            });
        } catch (IOException e) {
            throw new StorageException("listing objects failed: " + e.getMessage(), e);
        }
        keys.sort(null);
        return keys;
    }

    @Override
    public void delete(String key) {
        FileChannel channel = open.remove(key);
        if (channel != null) {
            closeQuietly(channel);
        }
        try {
            Files.deleteIfExists(path(key));
        } catch (IOException e) {
            throw new StorageException("deleting object " + key + " failed: " + e.getMessage(), e);
        }
    }

    /** Where the objects are, for messages. */
    @Override
    public String toString() {
        return root.toUri().toString();
    }

    @Override
    public void close() {
        open.values().forEach(LocalObjectStore::closeQuietly);
        open.clear();
    }
}
