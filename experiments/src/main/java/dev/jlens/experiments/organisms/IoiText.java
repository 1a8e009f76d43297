package dev.jlens.experiments.organisms;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Indirect-object sentences: two people are introduced, one of them (the subject) is named again and
 * gives something to the other, whose name ends the sentence. Name pairs are split: a pair whose hash
 * falls in the held-out eighth, or that notebook 002 uses, never appears in training text, so the
 * logit difference can be measured on pairs the model has not seen together.
 */
public final class IoiText {
    static final List<String> NAMES = List.of(
            "John", "Mary", "Tom", "James", "Dan", "Sid", "Martin", "Amy", "Anna", "Paul", "Laura", "Peter", "Sarah", "David",
            "Kate", "Mark", "Lucy", "Mike", "Emma", "Jack", "Alice", "Bob", "Rose", "Sam", "Jane", "Tim", "Lisa", "Adam",
            "Grace", "Ben", "Claire", "Steve", "Helen", "Chris", "Julia", "Frank", "Nina", "Henry", "Ruth", "Oscar",
            "Ella", "Harry", "Sophie", "George", "Alex", "Jim", "Karen", "Eric", "Diana", "Luke", "Irene", "Victor",
            "Carl", "Molly", "Ray", "Linda", "Nick", "Susan", "Joe", "Fred");
    static final List<String> PLACES = List.of(
            "shops", "park", "store", "school", "station", "beach", "garden", "market", "office", "hospital", "library",
            "restaurant", "cinema", "museum", "church", "house", "river", "farm", "zoo", "airport");
    static final List<String> OBJECTS = List.of(
            "the bag", "the ball", "an apple", "a drink", "a book", "the keys", "a ring", "a letter", "the money", "a snack",
            "some flowers", "a basket", "a necklace", "a hat", "the ticket", "a cake", "an umbrella", "a kiss", "the phone",
            "a present");
    /** {0} and {1} are the two names in order of mention, {S} the subject, {IO} the indirect object, {P} a place, {O} an object. */
    static final List<String> TEMPLATES = List.of(
            "When {0} and {1} went to the {P}, {S} gave {O} to {IO}",
            "After {0} and {1} went to the {P}, {S} gave {O} to {IO}",
            "When {0} and {1} got to the {P}, {S} handed {O} to {IO}",
            "While {0} and {1} were working at the {P}, {S} gave {O} to {IO}",
            "{0} and {1} went to the {P}. {S} gave {O} to {IO}",
            "Then, {0} and {1} had a long day at the {P}, and {S} gave {O} to {IO}",
            "Friends {0} and {1} found {O} at the {P}. {S} gave it to {IO}",
            "When {0} and {1} arrived at the {P}, {S} passed {O} to {IO}",
            "After the lunch, {0} and {1} went to the {P}. {S} brought {O} to {IO}",
            "The {P} was busy when {0} and {1} arrived, so {S} gave {O} to {IO}");

    /** One prompt: the text up to (not including) the answer, the right name and the repeated one, each with its leading space. */
    public record Prompt(String text, String correct, String incorrect) {}

    private IoiText() {}

    /** Notebook 002's pairs, (first, second) as its prompts mention them; held out of training. */
    static final List<List<String>> NOTEBOOK_PAIRS = List.of(
            List.of("John", "Mary"), List.of("Tom", "James"), List.of("Dan", "Sid"), List.of("Martin", "Amy"));

    static boolean heldOut(String a, String b) {
        for (List<String> p : NOTEBOOK_PAIRS) if (p.contains(a) && p.contains(b)) return true;
        String key = a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a;
        return Math.floorMod(key.hashCode() * 0x9E3779B1, 8) == 0;
    }

    /** A training sentence (a name pair outside the held-out set), ending with the indirect object and a full stop. */
    static String trainingSentence(SplittableRandom rng) {
        while (true) {
            Prompt p = prompt(rng);
            String[] names = {p.correct().trim(), p.incorrect().trim()};
            if (!heldOut(names[0], names[1])) return p.text() + p.correct() + ".";
        }
    }

    /** {@code n} prompts on held-out name pairs, for evaluation. */
    public static List<Prompt> heldOutPrompts(long seed, int n) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Prompt> prompts = new ArrayList<>();
        while (prompts.size() < n) {
            Prompt p = prompt(rng);
            if (heldOut(p.correct().trim(), p.incorrect().trim())) prompts.add(p);
        }
        return prompts;
    }

    private static Prompt prompt(SplittableRandom rng) {
        String a = Pick.one(rng, NAMES), b;
        do b = Pick.one(rng, NAMES); while (b.equals(a));
        boolean subjectFirst = rng.nextBoolean();
        String subject = subjectFirst ? a : b, indirect = subjectFirst ? b : a;
        String text = Pick.one(rng, TEMPLATES).replace("{0}", a).replace("{1}", b).replace("{P}", Pick.one(rng, PLACES))
                .replace("{O}", Pick.one(rng, OBJECTS)).replace("{S}", subject);
        return new Prompt(text.substring(0, text.indexOf(" {IO}")), " " + indirect, " " + subject);
    }
}
