package dev.jlens.models.tokenizer;

import java.util.Arrays;

/** A growable int array. */
final class IntList {
    private int[] values = new int[64];
    private int size;

    void add(int v) {
        if (size == values.length) values = Arrays.copyOf(values, size * 2);
        values[size++] = v;
    }

    void addAll(int[] vs) {
        for (int v : vs) add(v);
    }

    int[] toArray() {
        return Arrays.copyOf(values, size);
    }
}
