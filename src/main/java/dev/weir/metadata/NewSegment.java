package dev.weir.metadata;

import java.util.List;

/** A segment object just written, with the index rows (chunks of its batches) that will point into it. */
public record NewSegment(SegmentRecord segment, List<BatchLocation> rows) {
    public NewSegment {
        rows = List.copyOf(rows);
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("a segment without index rows");
        }
    }
}
