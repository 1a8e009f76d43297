package dev.jlens.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.io.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte-level BPE, as GPT-2 and GPT-NeoX tokenize: added tokens are cut out of the raw text first;
 * each remaining segment is (optionally NFC-normalised and) split by GPT-2's regex into words; each
 * word's UTF-8 bytes become {@link ByteLevel} characters, merged pairwise by merge rank until no
 * ranked pair is left. TransformerLens's {@code to_tokens}, {@code to_str_tokens} and
 * {@code to_single_token} sit on top.
 */
public final class Tokenizer {
    /** GPT-2's pre-tokenizer; \s is Unicode White_Space, as in the reference implementations. */
    static final Pattern WORDS = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);
    private static final int CACHE_LIMIT = 200_000;
    public static final String END_OF_TEXT = "<|endoftext|>";

    private final Map<String, Integer> vocab;
    private final String[] tokens;
    /** (left id, right id) → rank in the high 32 bits, merged id in the low. */
    private final Map<Long, Long> merges;
    private final List<AddedToken> added;
    private final boolean nfc;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private Tokenizer(Map<String, Integer> vocab, List<String[]> mergeList, List<AddedToken> added, boolean nfc) {
        this.vocab = vocab;
        this.added = added;
        this.nfc = nfc;
        int size = 0;
        for (int id : vocab.values()) size = Math.max(size, id + 1);
        for (AddedToken t : added) size = Math.max(size, t.id() + 1);
        tokens = new String[size];
        vocab.forEach((token, id) -> tokens[id] = token);
        for (AddedToken t : added) tokens[t.id()] = t.content();
        merges = new HashMap<>(mergeList.size() * 2);
        for (int rank = 0; rank < mergeList.size(); rank++) {
            String[] pair = mergeList.get(rank);
            Integer left = vocab.get(pair[0]), right = vocab.get(pair[1]), merged = vocab.get(pair[0] + pair[1]);
            if (left == null || right == null || merged == null) continue; // a merge whose parts are not tokens never applies
            merges.putIfAbsent(key(left, right), ((long) rank << 32) | merged);
        }
    }

    /** GPT-2's tokenizer, shipped with jlens. */
    public static Tokenizer gpt2() {
        return Bundled.GPT2;
    }

    /** GPT-NeoX-20B's tokenizer (Pythia's), shipped with jlens. */
    public static Tokenizer gptNeox() {
        return BundledNeox.NEOX;
    }

    /** GPT-2 style files: {@code vocab.json} and {@code merges.txt}. */
    public static Tokenizer fromVocabAndMerges(Path vocabJson, Path mergesTxt) {
        try {
            return fromVocabAndMerges(Files.readString(vocabJson), Files.readString(mergesTxt), vocabJson.toString());
        } catch (IOException e) {
            throw new JlensException("cannot read tokenizer files " + vocabJson + " and " + mergesTxt + " (" + JlensException.describe(e) + ").", e);
        }
    }

    static Tokenizer fromVocabAndMerges(String vocabJson, String mergesTxt, String source) {
        Map<String, Integer> vocab = readVocab(Json.parse(vocabJson, source), source);
        List<String[]> merges = new ArrayList<>();
        mergesTxt.lines().forEach(line -> {
            if (!line.startsWith("#version") && !line.isBlank()) merges.add(splitMerge(line.stripTrailing(), source));
        });
        List<AddedToken> added = new ArrayList<>();
        Integer eot = vocab.get(END_OF_TEXT);
        if (eot != null) added.add(new AddedToken(END_OF_TEXT, eot, true));
        return new Tokenizer(checked(vocab, added, source), merges, added, false);
    }

    /** A Hugging Face {@code tokenizer.json} with a BPE model and a ByteLevel pre-tokenizer. */
    public static Tokenizer fromTokenizerJson(Path file) {
        try {
            return fromTokenizerJson(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new JlensException("cannot read tokenizer file " + file + " (" + JlensException.describe(e) + ").", e);
        }
    }

    static Tokenizer fromTokenizerJson(String json, String source) {
        JsonNode root = Json.parse(json, source);
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText())) {
            throw new JlensException(source + ": the tokenizer model is " + JlensException.quote(model.path("type").asText()) + ", but jlens reads BPE.");
        }
        String preTokenizer = root.path("pre_tokenizer").path("type").asText();
        if (!preTokenizer.equals("ByteLevel")) {
            throw new JlensException(source + ": the pre-tokenizer is " + JlensException.quote(preTokenizer) + ", but jlens reads ByteLevel.");
        }
        if (root.path("pre_tokenizer").path("add_prefix_space").asBoolean(false)) {
            throw new JlensException(source + ": add_prefix_space is not supported.");
        }
        Map<String, Integer> vocab = readVocab(model.path("vocab"), source);
        List<String[]> merges = new ArrayList<>();
        for (JsonNode merge : model.path("merges")) {
            if (merge.isArray()) {
                if (merge.size() != 2 || !merge.get(0).isTextual() || !merge.get(1).isTextual() || merge.get(0).asText().isEmpty()
                        || merge.get(1).asText().isEmpty()) {
                    throw new JlensException(source + ": malformed merge " + JlensException.quote(merge.toString()) + " (a merge is two non-empty tokens).");
                }
                merges.add(new String[] {merge.get(0).asText(), merge.get(1).asText()});
            } else {
                merges.add(splitMerge(merge.asText(), source));
            }
        }
        List<AddedToken> added = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            added.add(new AddedToken(t.path("content").asText(), t.path("id").asInt(), t.path("special").asBoolean()));
        }
        String normalizer = root.path("normalizer").path("type").asText("");
        if (!normalizer.isEmpty() && !normalizer.equals("NFC")) {
            throw new JlensException(source + ": the normalizer " + JlensException.quote(normalizer) + " is not supported (jlens knows NFC).");
        }
        return new Tokenizer(checked(vocab, added, source), merges, added, normalizer.equals("NFC"));
    }

    // ---- encoding ----

    /** Token ids of {@code text}, with added tokens (such as {@code <|endoftext|>}) recognised. */
    public int[] encode(String text) {
        IntList out = new IntList();
        int start = 0;
        while (start < text.length()) {
            Match next = nextAddedToken(text, start);
            int end = next == null ? text.length() : next.at;
            if (end > start) encodeOrdinary(text.substring(start, end), out);
            if (next == null) break;
            out.add(next.token.id());
            start = next.at + next.token.content().length();
        }
        return out.toArray();
    }

    private record Match(int at, AddedToken token) {}

    /** The leftmost added token at or after {@code from}, the longest where several start there. */
    private Match nextAddedToken(String text, int from) {
        Match best = null;
        for (AddedToken t : added) {
            int at = text.indexOf(t.content(), from);
            if (at < 0) continue;
            if (best == null || at < best.at || (at == best.at && t.content().length() > best.token.content().length())) {
                best = new Match(at, t);
            }
        }
        return best;
    }

    private void encodeOrdinary(String segment, IntList out) {
        String text = nfc ? Normalizer.normalize(segment, Normalizer.Form.NFC) : segment;
        Matcher words = WORDS.matcher(text);
        while (words.find()) {
            String word = words.group();
            int[] ids = cache.get(word);
            if (ids == null) {
                ids = bpe(word);
                if (cache.size() > CACHE_LIMIT) cache.clear();
                cache.put(word, ids);
            }
            out.addAll(ids);
        }
    }

    /** One word: its bytes as single-character tokens, then the lowest-ranked adjacent pair merged until none is left. */
    private int[] bpe(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        int[] symbols = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            Integer id = vocab.get(String.valueOf(ByteLevel.charOf(bytes[i])));
            if (id == null) throw new JlensException("the tokenizer has no token for byte " + (bytes[i] & 0xff) + ".");
            symbols[i] = id;
        }
        int n = symbols.length;
        while (n > 1) {
            long best = Long.MAX_VALUE;
            for (int i = 0; i + 1 < n; i++) {
                Long merge = merges.get(key(symbols[i], symbols[i + 1]));
                if (merge != null && merge < best) best = merge;
            }
            if (best == Long.MAX_VALUE) break;
            int rankPair = (int) (best >>> 32), merged = (int) best;
            int w = 0;
            for (int i = 0; i < n; i++) {
                if (i + 1 < n) {
                    Long merge = merges.get(key(symbols[i], symbols[i + 1]));
                    if (merge != null && (int) (merge >>> 32) == rankPair) {
                        symbols[w++] = merged;
                        i++;
                        continue;
                    }
                }
                symbols[w++] = symbols[i];
            }
            n = w;
        }
        return Arrays.copyOf(symbols, n);
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xffffffffL);
    }

    // ---- decoding ----

    /** The text of a sequence of ids; bytes that do not form valid UTF-8 become U+FFFD. */
    public String decode(int... ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            String token = token(id);
            if (isAdded(id)) {
                bytes.writeBytes(token.getBytes(StandardCharsets.UTF_8));
                continue;
            }
            for (int i = 0; i < token.length(); i++) {
                int b = ByteLevel.byteOf(token.charAt(i));
                if (b >= 0) bytes.write(b);
                else bytes.writeBytes(String.valueOf(token.charAt(i)).getBytes(StandardCharsets.UTF_8));
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private boolean isAdded(int id) {
        for (AddedToken t : added) if (t.id() == id) return true;
        return false;
    }

    /** The vocabulary entry of an id, in its byte-level spelling. */
    public String token(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new JlensException("token id " + id + " is not in the tokenizer's vocabulary of " + tokens.length + ".");
        }
        return tokens[id];
    }

    // ---- TransformerLens's API ----

    /** The id of {@code <|endoftext|>}, which TransformerLens prepends as BOS. */
    public int bosToken() {
        for (AddedToken t : added) if (t.content().equals(END_OF_TEXT)) return t.id();
        throw new JlensException("the tokenizer has no " + END_OF_TEXT + " token to use as BOS.");
    }

    /** {@code to_tokens}: the ids of the text, after BOS when {@code prependBos}. */
    public int[] toTokens(String text, boolean prependBos) {
        int[] ids = encode(text);
        if (!prependBos) return ids;
        int[] out = new int[ids.length + 1];
        out[0] = bosToken();
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    /** {@code to_str_tokens}: each id decoded on its own. */
    public List<String> toStrTokens(int... ids) {
        List<String> out = new ArrayList<>(ids.length);
        for (int id : ids) out.add(decode(id));
        return out;
    }

    /** {@code to_single_token}: the one id of the text, or a clear error when it is not one token. */
    public int toSingleToken(String text) {
        int[] ids = encode(text);
        if (ids.length != 1) {
            throw new JlensException("'" + text + "' is not a single token: it is " + ids.length + " tokens " + toStrTokens(ids) + ".");
        }
        return ids[0];
    }

    // ---- reading ----

    private static Map<String, Integer> readVocab(JsonNode node, String source) {
        if (!node.isObject() || node.isEmpty()) throw new JlensException(source + ": has no vocabulary.");
        Map<String, Integer> vocab = new LinkedHashMap<>(node.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode id = e.getValue();
            if (!id.isIntegralNumber() || !id.canConvertToInt()) {
                throw new JlensException(source + ": the id of token " + JlensException.quote(e.getKey()) + " is " + JlensException.quote(id.toString()) + ", not a whole number.");
            }
            vocab.put(e.getKey(), id.asInt());
        }
        return vocab;
    }

    private static String[] splitMerge(String line, String source) {
        String[] parts = line.split(" ", -1);
        if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new JlensException(source + ": malformed merge " + JlensException.quote(line) + " (a merge is two tokens separated by one space).");
        }
        return parts;
    }

    /**
     * The vocabulary, once every id (the added tokens' too) is checked to lie in 0 .. (number of
     * tokens − 1) and every added token to have content: an id of a billion would otherwise size an
     * array, and an empty added token would match everywhere.
     */
    private static Map<String, Integer> checked(Map<String, Integer> vocab, List<AddedToken> added, String source) {
        int bound = vocab.size() + added.size();
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (e.getValue() == null || e.getValue() < 0 || e.getValue() >= bound) {
                throw new JlensException(source + ": token " + JlensException.quote(e.getKey()) + " has id " + e.getValue() + ", outside 0.." + (bound - 1) + ".");
            }
        }
        for (AddedToken t : added) {
            if (t.content().isEmpty()) throw new JlensException(source + ": an added token (id " + t.id() + ") is empty.");
            if (t.id() < 0 || t.id() >= bound) {
                throw new JlensException(source + ": the added token " + JlensException.quote(t.content()) + " has id " + t.id() + ", outside 0.." + (bound - 1) + ".");
            }
        }
        return vocab;
    }

    private static final class Bundled {
        static final Tokenizer GPT2 = fromVocabAndMerges(resource("gpt2/vocab.json"), resource("gpt2/merges.txt"), "bundled GPT-2 tokenizer");

        private static String resource(String name) {
            try (InputStream in = Tokenizer.class.getResourceAsStream("/dev/jlens/models/tokenizer/" + name)) {
                if (in == null) throw new IllegalStateException("missing bundled resource " + name);
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static final class BundledNeox {
        static final Tokenizer NEOX = fromTokenizerJson(Bundled.resource("gpt-neox-20b/tokenizer.json"), "bundled GPT-NeoX tokenizer");
    }

    /** A growable int array. */
    private static final class IntList {
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
}
