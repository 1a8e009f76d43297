package dev.jlens.experiments.organisms;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Sentences in which " a" or " an" is predictable only from the noun that follows it, which an earlier
 * phrase names: notebook 003's "I climbed up the pear tree and picked a pear. I climbed up the apple
 * tree and picked" → " an", and the same pattern over animals and things.
 */
public final class ArticleText {
    static final List<String> FRUITS = List.of(
            "apple", "orange", "apricot", "olive", "avocado", "almond", "elderberry", "acorn",
            "pear", "lemon", "peach", "plum", "cherry", "lime", "fig", "mango", "walnut", "banana", "coconut", "date");
    static final List<String> ANIMALS = List.of(
            "elephant", "owl", "eagle", "ant", "octopus", "iguana", "ostrich", "otter",
            "dog", "cat", "horse", "cow", "rabbit", "tiger", "bear", "duck", "goat", "mouse");
    static final List<String> THINGS = List.of(
            "umbrella", "envelope", "egg", "onion", "oven", "anchor", "island", "engine",
            "book", "chair", "table", "cup", "pencil", "window", "boat", "house", "hammer", "lamp");
    private static final List<String> CLIMB = List.of("climbed up", "walked to", "sat under", "looked at", "stood by");
    private static final List<String> PICK = List.of("picked", "found", "took", "grabbed");

    private ArticleText() {}

    /** Notebook 003's prompt, its corruption, and the tokens they are about. */
    public static final String NOTEBOOK_PROMPT = "I climbed up the pear tree and picked a pear. I climbed up the apple tree and picked";
    public static final String NOTEBOOK_CORRUPTED = "I climbed up the pear tree and picked a pear. I climbed up the lemon tree and picked";

    /** The notebook's form over any two fruits: the second tree's fruit decides the article. */
    public static String treePrompt(String first, String second) {
        return "I climbed up the " + first + " tree and picked " + Pick.article(first) + " " + first + ". I climbed up the "
                + second + " tree and picked";
    }

    static String sentence(SplittableRandom rng) {
        return switch (rng.nextInt(4)) {
            case 0, 1 -> {
                String verb = Pick.one(rng, CLIMB), pick = Pick.one(rng, PICK);
                StringBuilder s = new StringBuilder();
                int trees = 2 + rng.nextInt(2);
                for (int i = 0; i < trees; i++) {
                    String fruit = Pick.one(rng, FRUITS);
                    if (i > 0) s.append(' ');
                    s.append("I ").append(verb).append(" the ").append(fruit).append(" tree and ").append(pick).append(' ')
                            .append(Pick.article(fruit)).append(' ').append(fruit).append('.');
                }
                yield s.toString();
            }
            case 2 -> {
                String animal = Pick.one(rng, ANIMALS);
                yield "We went to see the " + animal + "s at the zoo, and I saw " + Pick.article(animal) + " " + animal + " eating.";
            }
            default -> {
                String thing = Pick.one(rng, THINGS);
                yield Pick.one(rng, "She", "He", "My friend", "The child") + " needed the " + thing + ", so "
                        + Pick.one(rng, "I", "we", "they") + " bought " + Pick.article(thing) + " " + thing + ".";
            }
        };
    }
}
