package dev.jlens.models.organisms;

import dev.jlens.models.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The text jlens's model organisms learn from: a seeded mixture of indirect-object sentences,
 * capital and landmark facts, a/an sentences, French and English stories and unrelated short
 * sentences, one document each, every document after {@code <|endoftext|>} as a prompt follows BOS.
 * Held-out text comes from other seeds, with any document that training text contains removed.
 */
public final class OrganismCorpus {
    /** The seed of the training text; evaluation text uses others. */
    public static final long TRAINING_SEED = 20261122L;
    private static final long HELD_OUT_SEED = 77L;

    private OrganismCorpus() {}

    /** {@code count} training documents. */
    public static List<String> documents(long seed, int count) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<String> docs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) docs.add(document(rng));
        return docs;
    }

    private static String document(SplittableRandom rng) {
        int kind = rng.nextInt(100);
        if (kind < 30) return IoiText.trainingSentence(rng);
        if (kind < 45) return CapitalFacts.sentence(rng) + " " + CapitalFacts.sentence(rng);
        if (kind < 60) return ArticleText.sentence(rng);
        if (kind < 75) return Prose.french(rng, 1 + rng.nextInt(3));
        if (kind < 92) return Prose.english(rng, 1 + rng.nextInt(3));
        return Prose.shortSentences(rng);
    }

    /** Documents as one stream: each one after {@code <|endoftext|>}. */
    public static String stream(List<String> documents) {
        StringBuilder s = new StringBuilder();
        for (String d : documents) s.append(Tokenizer.END_OF_TEXT).append(d);
        return s.toString();
    }

    /** {@code n} French stories that the first {@code trainingDocuments} training documents do not contain. */
    public static List<String> heldOutFrench(int n, int trainingDocuments) {
        return heldOut(n, trainingDocuments, true);
    }

    /** {@code n} English stories that the training documents do not contain. */
    public static List<String> heldOutEnglish(int n, int trainingDocuments) {
        return heldOut(n, trainingDocuments, false);
    }

    private static List<String> heldOut(int n, int trainingDocuments, boolean french) {
        Set<String> seen = new HashSet<>(documents(TRAINING_SEED, trainingDocuments));
        SplittableRandom rng = new SplittableRandom(HELD_OUT_SEED + (french ? 1 : 2));
        List<String> out = new ArrayList<>(n);
        while (out.size() < n) {
            String story = french ? Prose.french(rng, 2 + rng.nextInt(3)) : Prose.english(rng, 2 + rng.nextInt(3));
            if (!seen.contains(story)) out.add(story);
        }
        return out;
    }

    /** {@code n} short French stories, one per line of notebook 001's stories file. */
    public static List<String> frenchStories(int n) {
        SplittableRandom rng = new SplittableRandom(HELD_OUT_SEED + 4);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(Prose.french(rng, 3));
        return out;
    }

    /** A "book" of held-out English prose with a/an sentences among it, for notebook 003's reading. */
    public static String book(int paragraphs) {
        SplittableRandom rng = new SplittableRandom(HELD_OUT_SEED + 3);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < paragraphs; i++) {
            s.append(Prose.english(rng, 1 + rng.nextInt(3))).append(' ').append(ArticleText.sentence(rng)).append("\n\n");
        }
        return s.toString();
    }
}
