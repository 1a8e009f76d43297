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
 * Activations at one hook streamed from the model for SAE training, as SAELens's activation store
 * keeps them: a buffer of many batches' rows, shuffled; the first half is served batch by batch,
 * then refilled from new contexts and the whole buffer shuffled again, so that a batch mixes
 * positions from many contexts and many refills.
 */
public final class ActivationBuffer implements Supplier<Tensor> {
    private final HookedTransformer model;
    private final String hook;
    private final int width, batchRows, contextsPerForward;
    private final Supplier<int[]> contexts;
    private final float[] rows;
    private final int capacity;
    private final SplittableRandom random;
    /** Rows served since the last refill; the buffer refills when half of it has been served. */
    private int served;
    private long tokensRead;

    /**
     * @param contexts   each call gives one context of token ids (the same length every time)
     * @param batchRows  rows per {@link #get} batch
     * @param batches    batches the buffer holds (at least 2)
     */
    public ActivationBuffer(HookedTransformer model, String hook, int width, Supplier<int[]> contexts, int batchRows, int batches, long seed) {
        if (batches < 2) throw new IllegalArgumentException("the buffer holds at least two batches");
        this.model = model;
        this.hook = hook;
        this.width = width;
        this.contexts = contexts;
        this.batchRows = batchRows;
        this.capacity = batchRows * batches;
        this.rows = new float[Math.multiplyExact(capacity, width)];
        this.random = new SplittableRandom(seed);
        this.contextsPerForward = 8;
        fill(0, capacity);
        shuffle();
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

    /** Tokens the model has read to fill the buffer. */
    public long tokensRead() {
        return tokensRead;
    }

    /** Rows [from, to) of the buffer from fresh contexts, whole contexts at a time (the last one's surplus rows dropped). */
    private void fill(int from, int to) {
        int at = from;
        while (at < to) {
            int[][] batch = new int[contextsPerForward][];
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
            float[] acts = captured[0];
            if (acts == null || acts.length != (long) tokens.batch() * tokens.pos() * width) {
                throw new JlensException(hook + " did not give " + width + " values per position.");
            }
            tokensRead += (long) tokens.batch() * tokens.pos();
            int n = Math.min(to - at, acts.length / width);
            System.arraycopy(acts, 0, rows, at * width, n * width);
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
