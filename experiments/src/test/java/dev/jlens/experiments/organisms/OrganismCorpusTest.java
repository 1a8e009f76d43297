package dev.jlens.experiments.organisms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.models.hub.ShippedModels;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class OrganismCorpusTest {
    private static final Pattern TWO_NAMES = Pattern.compile("(\\p{Lu}\\p{L}+) and (\\p{Lu}\\p{L}+)");

    @Test
    void trainingSentencesNeverPairTheHeldOutNamesAndHeldOutPromptsOnlyDo() {
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < 20_000; i++) {
            String s = IoiText.trainingSentence(rng);
            Matcher m = TWO_NAMES.matcher(s);
            assertTrue(m.find(), s);
            assertFalse(IoiText.heldOut(m.group(1), m.group(2)), s);
            assertTrue(s.endsWith("."), s);
        }
        for (IoiText.Prompt p : IoiText.heldOutPrompts(3, 500)) {
            assertTrue(IoiText.heldOut(p.correct().trim(), p.incorrect().trim()), p.text());
            assertTrue(p.text().contains(p.incorrect().trim() + " "), "the subject is named twice: " + p.text());
        }
        for (List<String> pair : IoiText.NOTEBOOK_PAIRS) assertTrue(IoiText.heldOut(pair.get(1), pair.get(0)));
    }

    @Test
    void heldOutPairsAreAboutAnEighthOfAllPairs() {
        int held = 0, all = 0;
        for (String a : IoiText.NAMES) for (String b : IoiText.NAMES) if (a.compareTo(b) < 0) { all++; if (IoiText.heldOut(a, b)) held++; }
        assertTrue(held > all / 12 && held < all / 5, held + " of " + all);
    }

    @Test
    void theCorpusIsTheSameForTheSameSeedAndHeldOutStoriesAreNotInIt() {
        Recipe recipe = Recipe.named(ShippedModels.NEOX);
        List<String> docs = OrganismCorpus.documents(recipe);
        assertEquals(docs, OrganismCorpus.documents(recipe));
        Set<String> training = new HashSet<>(docs);
        OrganismCorpus.HeldOut heldOut = OrganismCorpus.heldOut(100, recipe);
        for (String s : heldOut.french()) assertFalse(training.contains(s));
        for (String s : heldOut.english()) assertFalse(training.contains(s));
        assertTrue(OrganismCorpus.stream(docs.subList(0, 2)).startsWith("<|endoftext|>" + docs.get(0) + "<|endoftext|>"));
    }

    @Test
    void aAndAnFollowTheNounAndTheTreePromptIsTheNotebooks() {
        assertEquals(ArticleText.NOTEBOOK_PROMPT, ArticleText.treePrompt("pear", "apple"));
        assertEquals(ArticleText.NOTEBOOK_CORRUPTED, ArticleText.treePrompt("pear", "lemon"));
        SplittableRandom rng = new SplittableRandom(2);
        Pattern article = Pattern.compile("\\b(a|an) (\\p{L}+)");
        for (int i = 0; i < 2000; i++) {
            Matcher m = article.matcher(ArticleText.sentence(rng));
            while (m.find()) assertEquals(Pick.article(m.group(2)), m.group(1), m.group());
        }
    }

    @Test
    void madeUpNounsTakeTheArticleTheirLanguageWould() {
        SplittableRandom rng = new SplittableRandom(5);
        Pattern feminine = Pattern.compile(".*(ette|ière|elle|ille|esse)");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 5000; i++) {
            String[] french = Prose.madeUpFrench(rng).split(" ");
            boolean isFeminine = feminine.matcher(french[1]).matches();
            assertTrue(isFeminine ? List.of("la", "une").contains(french[0]) : List.of("le", "un").contains(french[0]), String.join(" ", french));
            String[] english = Prose.madeUpEnglish(rng).split(" ");
            assertTrue(List.of("the", "a").contains(english[0]), String.join(" ", english));
            seen.add(french[1]);
            seen.add(english[1]);
        }
        assertTrue(seen.size() > 5000, "made-up nouns seldom repeat: " + seen.size() + " distinct in 10000");
    }
}
