package dev.jlens.analysis.sae;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Activations for SAE training, kept as SAELens's activation store keeps them: a buffer of many
 * batches' rows, shuffled; the first half is served batch by batch, then refilled from the source
 * and the whole buffer shuffled again, so that a batch mixes positions from many contexts and many
 * refills. The source is the model itself ({@link #fromModel}), or rows read elsewhere (the
 * Parquet a Spark job wrote).
 */
public final class ActivationBuffer implements Supplier<Tensor> {
    /** Where rows come from: each call gives the next few, [k × width] (k ≥ 1). */
    @FunctionalInterface
    public interface Source {
        float[] nextRows();
    }

    private final Source source;
    private final int width, batchRows, capacity;
    private final float[] rows;
    private final SplittableRandom random;
    /** Rows served since the last refill; the buffer refills when half of it has been served. */
    private int served;
    private long rowsRead;

    /**
     * @param batchRows rows per {@link #get} batch
     * @param batches   batches the buffer holds (at least 2)
     */
    public ActivationBuffer(Source source, int width, int batchRows, int batches, long seed) {
        if (batches < 2) throw new IllegalArgumentException("the buffer holds at least two batches");
        this.source = source;
        this.width = width;
        this.batchRows = batchRows;
        this.capacity = batchRows * batches;
        this.rows = new float[Math.multiplyExact(capacity, width)];
        this.random = new SplittableRandom(seed);
        fill(0, capacity);
        shuffle();
    }

    /**
     * The model's activations at {@code hook} over {@code contexts} (each call one context of token
     * ids, the same length every time), eight contexts to a forward pass.
     */
    public static ActivationBuffer fromModel(HookedTransformer model, String hook, int width, Supplier<int[]> contexts, int batchRows, int batches,
                                             long seed) {
        return new ActivationBuffer(() -> {
            int[][] batch = new int[8][];
            for (int i = 0; i < batch.length; i++) batch[i] = contexts.get();
            Tokens tokens = Tokens.padded(0, batch);
            float[][] captured = new float[1][];
            try (HookScope scope = model.hookPoints().scope()) {
                scope.forward(hook, (x, point) -> {
                    captured[0] = x.data().clone();
                    return null;
                });
                model.forward(tokens);
            }
            if (captured[0] == null || captured[0].length != (long) tokens.batch() * tokens.pos() * width) {
                throw new JlensException(hook + " did not give " + width + " values per position.");
            }
            return captured[0];
        }, width, batchRows, batches, seed);
    }

    /** The next batch of rows, [batchRows, width]. */
    @Override
    public Tensor get() {
        if (served + batchRows > capacity / 2) {
            fill(0, served);
            shuffle();
            served = 0;
        }
        float[] batch = Arrays.copyOfRange(rows, served * width, (served + batchRows) * width);
        served += batchRows;
        return Tensor.of(batch, batchRows, width);
    }

    /** Rows the source has given (for the model: tokens read). */
    public long rowsRead() {
        return rowsRead;
    }

    /** Rows [from, to) of the buffer from the source (the surplus of its last chunk dropped). */
    private void fill(int from, int to) {
        int at = from;
        while (at < to) {
            float[] chunk = source.nextRows();
            if (chunk.length == 0 || chunk.length % width != 0) throw new JlensException("an activation source gave rows that are not " + width + " values wide.");
            rowsRead += chunk.length / width;
            int n = Math.min(to - at, chunk.length / width);
            System.arraycopy(chunk, 0, rows, at * width, n * width);
            at += n;
        }
    }

    private void shuffle() {
        float[] swap = new float[width];
        for (int i = capacity - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            System.arraycopy(rows, i * width, swap, 0, width);
            System.arraycopy(rows, j * width, rows, i * width, width);
            System.arraycopy(swap, 0, rows, j * width, width);
        }
    }
}
