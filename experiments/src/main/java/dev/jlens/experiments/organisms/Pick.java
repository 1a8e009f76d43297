package dev.jlens.experiments.organisms;

import java.util.List;
import java.util.SplittableRandom;

/** Seeded choices, so that every generated text is the same on every machine. */
final class Pick {
    private Pick() {}

    static <T> T one(SplittableRandom rng, List<T> items) {
        return items.get(rng.nextInt(items.size()));
    }

    static String one(SplittableRandom rng, String... items) {
        return items[rng.nextInt(items.length)];
    }

    /** " a" or " an" as English spells it before {@code word} (vowel letters; no exceptions in these word lists). */
    static String article(String word) {
        return "aeiouAEIOU".indexOf(word.charAt(0)) >= 0 ? "an" : "a";
    }

    static String capitalise(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
