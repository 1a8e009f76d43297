package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Tensor;

/**
 * TransformerLens's HookedTransformerKeyValueCache: per layer, the keys (after k_norm and rotary,
 * as attention reads them) and the values of every position run so far, so that each new token
 * runs the model on its own position only. With grouped-query attention an entry holds the
 * n_key_value_heads heads, not one per query head. Every sequence of the batch has run the same
 * number of positions ({@link #length}); left padding is where each sequence starts ({@link #starts}).
 *
 * <p>Entries are [batch, capacity, G, d_head], made once for the whole generation.
 */
public final class KeyValueCache {
    private final Entry[] layers;
    private final int batch, capacity;
    private final int[] starts;
    private int length;

    private KeyValueCache(Entry[] layers, int batch, int capacity, int[] starts) {
        this.layers = layers;
        this.batch = batch;
        this.capacity = capacity;
        this.starts = starts;
    }

    /**
     * An empty cache of {@code layers} layers of {@code heads} key/value heads of width
     * {@code dHead}, for {@code batch} sequences of up to {@code capacity} positions starting at
     * {@code starts} (left padding; null: at 0). {@code HookedTransformer.newKeyValueCache} makes
     * one for a model.
     */
    public static KeyValueCache of(int layers, int heads, int dHead, int batch, int capacity, int[] starts) {
        Backend ops = Backend.of(dev.jlens.engine.Device.CPU);
        Entry[] entries = new Entry[layers];
        for (int l = 0; l < layers; l++) {
            entries[l] = new Entry(ops.zeros(batch, capacity, heads, dHead), ops.zeros(batch, capacity, heads, dHead));
        }
        return new KeyValueCache(entries, batch, capacity, starts == null ? new int[batch] : starts.clone());
    }

    /** Positions every sequence has run so far. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    public int batch() {
        return batch;
    }

    /** Each sequence's first real position (after its left padding). */
    public int[] starts() {
        return starts.clone();
    }

    public Entry layer(int l) {
        return layers[l];
    }

    /** After a forward pass over {@code positions} new positions, which every layer has appended. */
    public void advance(int positions) {
        length += positions;
    }

    /** Refuses a step of {@code positions} that would run past the capacity. */
    public void requireRoom(int positions) {
        if (length + positions > capacity) {
            throw new JlensException("the KV cache holds " + capacity + " positions; " + length + " are used and " + positions + " more do not fit.");
        }
    }

    /** One layer's keys and values, [batch, capacity, G, d_head]. */
    public record Entry(Tensor keys, Tensor values) {
        /** Stores the new positions' keys and values [batch, n, G, d_head] at positions past .. past + n − 1. */
        public void store(Backend ops, Tensor newKeys, Tensor newValues, int past) {
            write(ops, keys, newKeys, past);
            write(ops, values, newValues, past);
        }

        private static void write(Backend ops, Tensor store, Tensor fresh, int past) {
            int batch = store.dim(0), capacity = store.dim(1), n = fresh.dim(1), width = store.dim(2) * store.dim(3);
            for (int b = 0; b < batch; b++) {
                ops.copyRows(Matrix.of(fresh, b * n * width, 1, n * width, 0), Matrix.of(store, (b * capacity + past) * width, 1, n * width, 0));
            }
        }
    }
}
