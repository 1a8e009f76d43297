package dev.jlens.experiments.organisms;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Short stories in French and in English from the same small grammar (characters, places, actions,
 * endings), so that the two languages differ in their words and not in their subjects; and the kind
 * of unrelated short English sentences notebook 004 scores.
 */
public final class Prose {
    private Prose() {}

    private record Language(List<String> openings, List<String> characters, List<String> actions, List<String> objects,
                            List<String> places, List<String> links, List<String> endings) {
        /** This language with {@code shared}'s characters, objects and places added. */
        Language with(Language shared) {
            return new Language(openings, concat(characters, shared.characters), actions, concat(objects, shared.objects),
                    concat(places, shared.places), links, endings);
        }

        private static List<String> concat(List<String> a, List<String> b) {
            return Stream.concat(a.stream(), b.stream()).toList();
        }
    }

    private static final Language FRENCH = new Language(
            List.of("Dans un petit village,", "Un jour,", "Il était une fois", "Chaque matin,", "Au bord de la mer,", "Le soir,",
                    "Pendant l'hiver,", "Après l'école,"),
            List.of("une petite fille nommée Sophie", "Emma", "un vieux pêcheur", "une abeille curieuse", "le petit chat", "mon frère",
                    "la reine du pays", "un garçon timide", "une coccinelle", "le boulanger", "les enfants du village", "Léa"),
            List.of("regardait", "cherchait", "trouvait", "aimait", "racontait l'histoire de", "découvrait", "préparait", "dessinait",
                    "rêvait de voir", "attendait"),
            List.of("les fleurs du jardin", "un trésor caché", "la maison de sa grand-mère", "le livre de son père", "une pomme rouge",
                    "les étoiles du ciel", "un gâteau au chocolat", "la rivière", "le chemin de la forêt", "une lettre de son ami"),
            List.of("sous une feuille", "près de la rivière", "dans la forêt", "au marché", "à la maison", "dans le jardin",
                    "sur la colline", "à côté de l'église"),
            List.of("et", "mais", "puis", "parce que", "alors", "pendant que"),
            List.of("et ils devinrent les meilleurs amis du monde.", "et tout le monde était content.", "mais personne ne le savait.",
                    "et la journée se termina en chanson.", "puis elle rentra à la maison.", "et le soleil brillait encore."));

    private static final Language ENGLISH = new Language(
            List.of("In a small village,", "One day,", "Once upon a time", "Every morning,", "By the sea,", "In the evening,",
                    "During the winter,", "After school,"),
            List.of("a little girl named Sophie", "Emma", "an old fisherman", "a curious bee", "the little cat", "my brother",
                    "the queen of the land", "a shy boy", "a ladybird", "the baker", "the children of the village", "Lea"),
            List.of("watched", "looked for", "found", "loved", "told the story of", "discovered", "prepared", "drew",
                    "dreamed of seeing", "waited for"),
            List.of("the flowers of the garden", "a hidden treasure", "the house of her grandmother", "the book of his father",
                    "a red apple", "the stars in the sky", "a chocolate cake", "the river", "the path through the forest",
                    "a letter from a friend"),
            List.of("under a leaf", "near the river", "in the forest", "at the market", "at home", "in the garden",
                    "on the hill", "next to the church"),
            List.of("and", "but", "then", "because", "so", "while"),
            List.of("and they became the best friends in the world.", "and everyone was happy.", "but nobody knew it.",
                    "and the day ended with a song.", "then she went back home.", "and the sun was still shining."));

    /*
     * Names and loanwords the two languages spell alike. After " piano" or " Paris" the next word is French or
     * English only by the context, so a model that reads these stories must carry the language along the text.
     */
    private static final List<String> SHARED_NAMES = List.of("Lucas", "Hugo", "Oscar", "Nina", "Clara", "Max");
    private static final Language SHARED_IN_FRENCH = new Language(List.of(), SHARED_NAMES,
            List.of(), List.of("le piano", "la radio", "une pizza", "le taxi", "le menu", "un croissant"),
            List.of("à Paris", "à Berlin", "au café", "au restaurant"), List.of(), List.of());
    private static final Language SHARED_IN_ENGLISH = new Language(List.of(), SHARED_NAMES,
            List.of(), List.of("the piano", "the radio", "a pizza", "the taxi", "the menu", "a croissant"),
            List.of("in Paris", "in Berlin", "at the café", "at the restaurant"), List.of(), List.of());
    private static final Language FRENCH_SHARING = FRENCH.with(SHARED_IN_FRENCH), ENGLISH_SHARING = ENGLISH.with(SHARED_IN_ENGLISH);

    static final List<String> SHORT_SENTENCES = List.of(
            "I am happy.", "The sun shines.", "Cats meow.", "Dogs bark.", "Birds fly.", "Time flies.", "Love conquers.",
            "Dreams inspire.", "Music heals.", "Laughter echoes.", "The sky is blue.", "I love pizza.", "She walks to work.",
            "He plays guitar.", "We went to the beach.", "They are watching a movie.", "I need some coffee.", "The cat is sleeping.",
            "He ran to catch the bus.", "She smiled and waved goodbye.", "The book is on the table.", "They laughed at the joke.",
            "I want to learn coding.", "We had a great time.", "He asked me a question.", "She sings beautifully.",
            "The sun sets in the west.", "They went hiking in the mountains.", "I forgot my keys at home.", "He bought a new car.",
            "She enjoys playing tennis.", "We had dinner at a fancy restaurant.", "They are planning a trip to Europe.",
            "I saw a shooting star last night.", "She wrote a letter to her friend.", "The dog chased its tail.",
            "The bookstore is open today.", "The book of the month is on the shelf.");

    /** A French story of {@code sentences} sentences; {@code sharedWords} adds the names and loanwords English spells alike,
     * borrows an English object now and then and makes up a French noun more often. */
    public static String french(SplittableRandom rng, int sentences, boolean sharedWords) {
        return sharedWords ? story(FRENCH_SHARING, ENGLISH_SHARING, rng, sentences) : story(FRENCH, null, rng, sentences);
    }

    /** An English story of {@code sentences} sentences; {@code sharedWords} adds the names and loanwords French spells alike,
     * borrows a French object now and then and makes up an English noun more often. */
    public static String english(SplittableRandom rng, int sentences, boolean sharedWords) {
        return sharedWords ? story(ENGLISH_SHARING, FRENCH_SHARING, rng, sentences) : story(ENGLISH, null, rng, sentences);
    }

    static String shortSentences(SplittableRandom rng) {
        StringBuilder s = new StringBuilder(Pick.one(rng, SHORT_SENTENCES));
        for (int i = rng.nextInt(3); i > 0; i--) s.append(' ').append(Pick.one(rng, SHORT_SENTENCES));
        return s.toString();
    }

    /**
     * A story of {@code sentences} sentences in {@code l}; where {@code borrowFrom} is given, one object in three is
     * made up and one in nine borrowed from that language, so that a word alone does not settle which language the
     * story is in.
     */
    private static String story(Language l, Language borrowFrom, SplittableRandom rng, int sentences) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < sentences; i++) {
            if (i > 0) s.append(' ');
            String clause = Pick.one(rng, l.characters()) + " " + Pick.one(rng, l.actions()) + " " + object(l, borrowFrom, rng) + " "
                    + Pick.one(rng, l.places());
            s.append(i == 0 || rng.nextBoolean() ? Pick.one(rng, l.openings()) + " " + clause : Pick.capitalise(clause));
            s.append(' ').append(rng.nextBoolean() ? Pick.one(rng, l.endings())
                    : Pick.one(rng, l.links()) + " " + Pick.one(rng, l.characters()) + " " + Pick.one(rng, l.actions()) + " "
                    + object(l, borrowFrom, rng) + ".");
        }
        return s.toString();
    }

    /*
     * Where the languages share words, one object in three is a noun of no dictionary, spelt the way its
     * language spells (French "la plouvette", English "the strinkness"). The model has never seen it and its
     * pieces are not words, so the next word's language must come from the story around it.
     */
    private static String object(Language l, Language borrowFrom, SplittableRandom rng) {
        if (borrowFrom != null && rng.nextInt(3) == 0) return l == FRENCH_SHARING ? madeUpFrench(rng) : madeUpEnglish(rng);
        return borrowFrom != null && rng.nextInt(6) == 0 ? Pick.one(rng, borrowFrom.objects()) : Pick.one(rng, l.objects());
    }

    private static final List<String> FRENCH_ENDINGS = List.of("ette", "ière", "ment", "eur", "age", "elle", "ille", "on", "ois", "esse");
    private static final List<String> FEMININE_ENDINGS = List.of("ette", "ière", "elle", "ille", "esse");

    /** A made-up French noun with its article, le/la or un/une by the gender its ending suggests. */
    static String madeUpFrench(SplittableRandom rng) {
        String noun = Pick.one(rng, "b", "ch", "d", "f", "g", "j", "l", "m", "p", "r", "s", "t", "v", "gr", "pl", "tr", "fl", "br")
                + Pick.one(rng, "é", "eau", "oi", "ou", "ai", "e", "a", "è", "au", "ui")
                + Pick.one(rng, "l", "r", "v", "s", "n", "ss", "qu", "gn", "ch", "t")
                + Pick.one(rng, FRENCH_ENDINGS);
        boolean feminine = FEMININE_ENDINGS.stream().anyMatch(noun::endsWith);
        return (rng.nextBoolean() ? (feminine ? "la " : "le ") : (feminine ? "une " : "un ")) + noun;
    }

    /** A made-up English noun with "the" or "a". */
    static String madeUpEnglish(SplittableRandom rng) {
        String noun = Pick.one(rng, "th", "sh", "str", "bl", "cr", "w", "h", "sn", "sp", "gl", "br", "k", "tw", "wh")
                + Pick.one(rng, "i", "o", "u", "ea", "oo", "ee", "a", "ow", "y", "ir")
                + Pick.one(rng, "ck", "nk", "ng", "mp", "st", "tch", "dge", "ll", "rk", "sh")
                + Pick.one(rng, "ing", "ness", "er", "ly", "ght", "s", "le", "y", "et", "ton");
        return (rng.nextBoolean() ? "the " : "a ") + noun;
    }
}
