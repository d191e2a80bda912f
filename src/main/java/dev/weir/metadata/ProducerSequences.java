package dev.weir.metadata;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * What one idempotent producer last wrote to one partition: its epoch and its last five batches
 * (Kafka's NUM_BATCHES_TO_RETAIN), enough to recognise any retry a client can have in flight.
 * Not thread-safe; the committing thread owns it.
 */
public final class ProducerSequences {
    public static final int BATCHES_TO_RETAIN = 5;

    /** A retained batch: its sequences and the offsets it was given. */
    public record Entry(int firstSequence, int lastSequence, long baseOffset, int offsetCount) {
    }

    /** The decision for one incoming batch: accepted (failure null), a duplicate of one, or refused. */
    public record Check(AppendFailure failure, long duplicateOf, String message) {
        static final Check ACCEPT = new Check(null, -1, null);

        public boolean isDuplicate() {
            return duplicateOf >= 0;
        }
    }

    private short epoch;
    private final Deque<Entry> entries;

    public ProducerSequences(short epoch, List<Entry> entries) {
        this.epoch = epoch;
        this.entries = new ArrayDeque<>(entries);
    }

    public short epoch() {
        return epoch;
    }

    public List<Entry> entries() {
        return new ArrayList<>(entries);
    }

    public ProducerSequences copy() {
        return new ProducerSequences(epoch, entries());
    }

    /** Checks a batch against this state (null state: the producer never wrote here). */
    public static Check check(ProducerSequences state, BatchAppend batch) {
        if (state == null) {
            return batch.baseSequence() == 0 ? Check.ACCEPT : outOfOrder(batch, -1);
        }
        if (batch.producerEpoch() < state.epoch) {
            return new Check(AppendFailure.STALE_PRODUCER_EPOCH, -1, "Epoch " + batch.producerEpoch()
                + " of producer " + batch.producerId() + " is older than the current epoch " + state.epoch);
        }
        if (batch.producerEpoch() > state.epoch) {
            return batch.baseSequence() == 0 ? Check.ACCEPT : outOfOrder(batch, -1);
        }
        for (Entry entry : state.entries) {
            if (entry.firstSequence == batch.baseSequence() && entry.lastSequence == batch.lastSequence()) {
                return new Check(null, entry.baseOffset, null);
            }
        }
        int lastSequence = state.entries.isEmpty() ? -1 : state.entries.getLast().lastSequence;
        boolean inSequence = lastSequence == Integer.MAX_VALUE ? batch.baseSequence() == 0
            : batch.baseSequence() == lastSequence + 1;
        return inSequence ? Check.ACCEPT : outOfOrder(batch, lastSequence);
    }

    private static Check outOfOrder(BatchAppend batch, int lastSequence) {
        return new Check(AppendFailure.OUT_OF_ORDER_SEQUENCE, -1, "Out of order sequence number for producer "
            + batch.producerId() + " at " + batch.partition() + ": " + batch.baseSequence()
            + " (incoming), " + lastSequence + " (current end sequence)");
    }

    /** Records an accepted batch; a new epoch forgets the old epoch's batches. */
    public void record(BatchAppend batch, long baseOffset) {
        if (batch.producerEpoch() != epoch) {
            epoch = batch.producerEpoch();
            entries.clear();
        }
        entries.addLast(new Entry(batch.baseSequence(), batch.lastSequence(), baseOffset, batch.offsetCount()));
        while (entries.size() > BATCHES_TO_RETAIN) {
            entries.removeFirst();
        }
    }

    /** Encodes the retained batches as text for the database: first:last:offset:count,... */
    public String encodeEntries() {
        StringBuilder text = new StringBuilder();
        for (Entry entry : entries) {
            if (text.length() > 0) {
                text.append(',');
            }
            text.append(entry.firstSequence).append(':').append(entry.lastSequence).append(':')
                .append(entry.baseOffset).append(':').append(entry.offsetCount);
        }
        return text.toString();
    }

    public static List<Entry> decodeEntries(String text) {
        List<Entry> entries = new ArrayList<>();
        if (text.isEmpty()) {
            return entries;
        }
        for (String part : text.split(",")) {
            String[] fields = part.split(":");
            if (fields.length != 4) {
                throw new MetadataException("corrupt producer state: " + text);
            }
            entries.add(new Entry(Integer.parseInt(fields[0]), Integer.parseInt(fields[1]),
                Long.parseLong(fields[2]), Integer.parseInt(fields[3])));
        }
        return entries;
    }
}
