package dev.jlens.experiments.organisms;

import dev.jlens.models.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The text jlens's model organisms learn from: a seeded mixture of indirect-object sentences,
 * capital and landmark facts, a/an sentences, French and English stories and unrelated short
 * sentences, one document each, every document after {@code <|endoftext|>} as a prompt follows BOS.
 * Held-out text comes from other seeds, with any document that training text contains removed.
 */
public final class OrganismCorpus {
    /**
     * How many of every hundred documents are of each kind, and whether the stories share names and
     * loanwords between the languages.
     */
    public enum Mixture {
        /** Every notebook's text in even measure: French is as common as English prose. */
        NOTEBOOKS(30, 15, 15, 15, 17, false),
        /**
         * French rare among English, as it is in the Pile, with names and loanwords the languages share, so
         * that which language comes next must often be read from the context rather than the last word.
         */
        RARE_FRENCH(30, 15, 15, 3, 29, true);

        private final int ioi, facts, articles, french, english;
        private final boolean sharedWords;

        Mixture(int ioi, int facts, int articles, int french, int english, boolean sharedWords) {
            this.ioi = ioi;
            this.facts = facts;
            this.articles = articles;
            this.french = french;
            this.english = english;
            this.sharedWords = sharedWords;
        }

        /** The mixture in words, for a model card. */
        public String describe() {
            return String.format(Locale.ROOT, "%d%% indirect-object sentences, %d%% capital facts, %d%% a/an sentences, %d%% French "
                    + "and %d%% English stories%s, %d%% short sentences", ioi, facts, articles, french, english,
                    sharedWords ? " (names and loanwords shared; one object in three a made-up noun spelt the language's way, one in nine "
                            + "borrowed from the other language)" : "",
                    100 - ioi - facts - articles - french - english);
        }

        /** One document; the hundred's remainder is notebook 004's short sentences. */
        private String document(SplittableRandom rng) {
            int kind = rng.nextInt(100);
            if ((kind -= ioi) < 0) return IoiText.trainingSentence(rng);
            if ((kind -= facts) < 0) return CapitalFacts.sentence(rng) + " " + CapitalFacts.sentence(rng);
            if ((kind -= articles) < 0) return ArticleText.sentence(rng);
            if ((kind -= french) < 0) return Prose.french(rng, 1 + rng.nextInt(3), sharedWords);
            if ((kind -= english) < 0) return Prose.english(rng, 1 + rng.nextInt(3), sharedWords);
            return Prose.shortSentences(rng);
        }
    }

    /** The seed of the training text; evaluation text uses others. */
    public static final long TRAINING_SEED = 20261122L;
    private static final long HELD_OUT_SEED = 77L;

    private OrganismCorpus() {}

    /** {@code count} training documents of {@code mixture}. */
    public static List<String> documents(Mixture mixture, long seed, int count) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<String> docs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) docs.add(mixture.document(rng));
        return docs;
    }

    /** The training documents of {@code recipe}. */
    public static List<String> documents(Recipe recipe) {
        return documents(recipe.corpus().mixture(), TRAINING_SEED, recipe.corpus().documents());
    }

    /** Documents as one stream: each one after {@code <|endoftext|>}. */
    public static String stream(List<String> documents) {
        StringBuilder s = new StringBuilder();
        for (String d : documents) s.append(Tokenizer.END_OF_TEXT).append(d);
        return s.toString();
    }

    /** French and English stories for evaluation. */
    public record HeldOut(List<String> french, List<String> english) {}

    /** {@code n} French and {@code n} English stories of the kind {@code recipe} trains on that its training documents do not contain. */
    public static HeldOut heldOut(int n, Recipe recipe) {
        Set<String> seen = new HashSet<>(documents(recipe));
        return new HeldOut(heldOut(n, recipe, seen, true), heldOut(n, recipe, seen, false));
    }

    private static List<String> heldOut(int n, Recipe recipe, Set<String> seen, boolean french) {
        boolean shared = recipe.corpus().mixture().sharedWords;
        SplittableRandom rng = new SplittableRandom(HELD_OUT_SEED + (french ? 1 : 2));
        List<String> out = new ArrayList<>(n);
        while (out.size() < n) {
            String story = french ? Prose.french(rng, 2 + rng.nextInt(3), shared) : Prose.english(rng, 2 + rng.nextInt(3), shared);
            if (!seen.contains(story)) out.add(story);
        }
        return out;
    }

    /** {@code n} short French stories of the kind {@code recipe} trains on, one per line of notebook 001's stories file. */
    public static List<String> frenchStories(int n, Recipe recipe) {
        SplittableRandom rng = new SplittableRandom(HELD_OUT_SEED + 4);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(Prose.french(rng, 3, recipe.corpus().mixture().sharedWords));
        return out;
    }

    /** A "book" of held-out English prose with a/an sentences among it, for notebook 003's reading. */
    public static String book(int paragraphs) {
        SplittableRandom rng = new SplittableRandom(HELD_OUT_SEED + 3);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < paragraphs; i++) {
            s.append(Prose.english(rng, 1 + rng.nextInt(3), false)).append(' ').append(ArticleText.sentence(rng)).append("\n\n");
        }
        return s.toString();
    }
}
