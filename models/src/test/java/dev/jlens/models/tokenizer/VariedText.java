package dev.jlens.models.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A seeded corpus of documents for tokenizer comparisons: the five notebooks (prose, code, printed
 * tables), this project's own sources, and generated text that stresses what byte-level BPE gets
 * wrong: scripts of many languages, combining marks, emoji with ZWJ sequences and skin tones,
 * numbers in several notations and digit systems, contractions in both cases, and runs of every
 * kind of whitespace.
 */
final class VariedText {
    private VariedText() {}

    private static final String[] WORDS = {
            "the", "The", "tokenizer", "apple", "an", "a", "pear", "Paris", "France", "Mary", "John", "store", "gave",
            "über", "Straße", "naïve", "café", "façade", "jalapeño", "Ångström", "Łódź", "İstanbul", "ﬁnance",
            "Москва", "привет", "Ελλάδα", "λόγος", "日本語", "東京", "中文字符", "한국어", "ภาษาไทย", "עברית", "العربية",
            "हिन्दी", "தமிழ்", "ქართული", "Հայերեն", "e\u0301", "n\u0303o", "Z\u0351\u0359a\u0325l\u0353g\u034fo",
            "don't", "DON'T", "it's", "IT'S", "we're", "they've", "I'm", "you'll", "he'd", "O'Neil", "rock'n'roll",
            "x", "foo_bar", "camelCase", "snake_case_name", "__init__", "0x1F", "1e-5", "3.14159", "-42", "1,000,000",
            "١٢٣", "४५६", "½", "²³", "Ⅻ", "①②", "🙂", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "❤️", "☃", "∑", "∫x dx", "≠", "→",
            "<|endoftext", "|>", "'s", "'S", "''", "\"quoted\"", "(parens)", "[brackets]", "{braces}", "#hash", "@user",
            "http://example.com/path?q=1&r=2", "C:\\Windows\\path", "$100.00", "€50", "¥", "£", "100%", "a/b", "--flag",
    };

    private static final String[] SPACES = {
            " ", " ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\n ", "\u00a0", "\u2003", "\u3000",
            "\u2028", "\u000b", "\f", "    ", "\t\t", " \t ", "\u200b", "\u0085",
    };

    private static final String CODE = """
            public static int[] encode(String text) {
                for (int i = 0; i < text.length(); i++) {
                    if (text.charAt(i) == ' ') count++;   // spaces
                }
                return new int[] {1, 2, 3};
            }
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.W_out @ F.gelu(self.W_in @ x + self.b_in)  # type: ignore
            SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;
            <div class="row"><span id='x'>&amp;</span></div>
            """;

    /** At least {@code minChars} characters, in documents of a few kilobytes. */
    static List<String> documents(Path repoRoot, Path seeds, int minChars) throws IOException {
        List<String> docs = new ArrayList<>();
        int total = 0;
        try (var files = Files.list(seeds)) {
            for (Path p : files.sorted().toList()) {
                String text = Files.readString(p);
                docs.addAll(chunks(text));
                total += text.length();
            }
        }
        try (var files = Files.walk(repoRoot)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".java") && f.toString().contains("/src/main/")).sorted().toList()) {
                String text = Files.readString(p);
                docs.addAll(chunks(text));
                total += text.length();
            }
        }
        Random rng = new Random(20261122);
        while (total < minChars) {
            String doc = generated(rng, 4000);
            docs.add(doc);
            total += doc.length();
        }
        return docs;
    }

    private static List<String> chunks(String text) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < text.length(); i += 4096) out.add(text.substring(i, Math.min(text.length(), i + 4096)));
        return out;
    }

    private static String generated(Random rng, int length) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < length) {
            switch (rng.nextInt(10)) {
                case 0 -> sb.append(CODE, rng.nextInt(CODE.length() / 2), CODE.length());
                case 1 -> sb.appendCodePoint(randomCodePoint(rng));
                case 2 -> sb.append(rng.nextInt(100000)).append(rng.nextBoolean() ? "." : "").append(rng.nextInt(1000));
                case 3 -> sb.append(" ".repeat(1 + rng.nextInt(12)));
                default -> sb.append(WORDS[rng.nextInt(WORDS.length)]);
            }
            sb.append(SPACES[rng.nextInt(SPACES.length)]);
        }
        return sb.toString();
    }

    /** A code point from a script or symbol block that the word list does not cover. */
    private static int randomCodePoint(Random rng) {
        int[][] ranges = {{0x20, 0x7e}, {0xa0, 0x24f}, {0x370, 0x52f}, {0x590, 0x6ff}, {0x900, 0x97f}, {0x3040, 0x30ff},
                {0x4e00, 0x9fff}, {0xac00, 0xd7a3}, {0x1f300, 0x1f64f}, {0x1f900, 0x1f9ff}, {0x2000, 0x206f},
                {0x0300, 0x036f}, {0xfe00, 0xfe0f}, {0x10000, 0x1007f}};
        int[] r = ranges[rng.nextInt(ranges.length)];
        return r[0] + rng.nextInt(r[1] - r[0] + 1);
    }
}
