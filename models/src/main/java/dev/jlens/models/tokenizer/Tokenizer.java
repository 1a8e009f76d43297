package dev.jlens.models.tokenizer;

import dev.jlens.engine.JlensException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Hugging Face tokenizer with a BPE model, as {@code tokenizers} runs one: added tokens
 * ({@code <|endoftext|>}, {@code <|im_start|>}) are cut out of the raw text first; each remaining
 * segment is normalized (NFC; Gemma's spaces to ▁), pre-tokenized into pieces (GPT-2's regex, Llama
 * 3's and Qwen's Split regex, each spelled in {@link ByteLevel} characters; or none), and each
 * piece merged by {@link Bpe}. Decoding runs the tokenizer's decoders. TransformerLens's
 * {@code to_tokens}, {@code to_str_tokens} and {@code to_single_token} sit on top.
 */
public final class Tokenizer {
    public static final String END_OF_TEXT = "<|endoftext|>";

    private final AddedTokens added;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final Bpe bpe;
    private final Decoder decoder;
    private final String[] tokens;
    /** The token TransformerLens prepends, or null when the tokenizer names none. */
    private final Integer bos;
    /** The token that ends a text (its config's eos_token), or null when the config names none. */
    private final Integer eos;

    Tokenizer(AddedTokens added, Normalizer normalizer, PreTokenizer preTokenizer, Bpe bpe, Decoder decoder, Integer bos) {
        this(added, normalizer, preTokenizer, bpe, decoder, bos, null);
    }

    private Tokenizer(AddedTokens added, Normalizer normalizer, PreTokenizer preTokenizer, Bpe bpe, Decoder decoder, Integer bos, Integer eos) {
        this.added = added;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.bpe = bpe;
        this.decoder = decoder;
        int size = 0;
        for (int id : bpe.vocab().values()) size = Math.max(size, id + 1);
        for (AddedToken t : added.all()) size = Math.max(size, t.id() + 1);
        tokens = bpe.tokensById(size);
        for (AddedToken t : added.all()) tokens[t.id()] = t.content();
        this.bos = bos;
        this.eos = eos;
    }

    /** This tokenizer with {@code token} (an added token or a vocabulary entry) as the BOS that {@link #toTokens} prepends. */
    public Tokenizer withBos(String token) {
        return new Tokenizer(added, normalizer, preTokenizer, bpe, decoder, idOf(token, "BOS"), eos);
    }

    /** This tokenizer with {@code token} as the end-of-sequence token generation stops at. */
    public Tokenizer withEos(String token) {
        return new Tokenizer(added, normalizer, preTokenizer, bpe, decoder, bos, idOf(token, "EOS"));
    }

    private int idOf(String token, String role) {
        AddedToken a = added.named(token);
        Integer id = a != null ? Integer.valueOf(a.id()) : bpe.vocab().get(token);
        if (id == null) throw new JlensException("the tokenizer has no token " + JlensException.quote(token) + " to use as " + role + ".");
        return id;
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
        return TokenizerFiles.vocabAndMerges(vocabJson, mergesTxt, source);
    }

    /**
     * A Hugging Face {@code tokenizer.json}; its BOS is that of a {@code tokenizer_config.json}
     * beside it (its bos_token, else its eos_token, as TransformerLens takes it), else
     * {@code <|endoftext|>} where the tokenizer has one.
     */
    public static Tokenizer fromTokenizerJson(Path file) {
        try {
            Tokenizer t = fromTokenizerJson(Files.readString(file), file.toString());
            Path config = file.resolveSibling("tokenizer_config.json");
            String bos = TokenizerFiles.configuredBos(config), eos = TokenizerFiles.configured(config, "eos_token");
            if (bos != null) t = t.withBos(bos);
            return eos == null ? t : t.withEos(eos);
        } catch (IOException e) {
            throw new JlensException("cannot read tokenizer file " + file + " (" + JlensException.describe(e) + ").", e);
        }
    }

    static Tokenizer fromTokenizerJson(String json, String source) {
        return TokenizerFiles.tokenizerJson(json, source);
    }

    // ---- encoding ----

    /** Token ids of {@code text}, with added tokens (such as {@code <|endoftext|>}) recognised; no BOS. */
    public int[] encode(String text) {
        IntList out = new IntList();
        List<String> pieces = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            AddedTokens.Match next = added.next(text, start);
            int end = next == null ? text.length() : next.at();
            if (end > start) {
                pieces.clear();
                preTokenizer.split(normalizer.apply(text.substring(start, end)), pieces);
                for (String piece : pieces) bpe.encode(piece, out);
            }
            if (next == null) break;
            out.add(next.token().id());
            start = next.at() + next.token().content().length();
        }
        return out.toArray();
    }

    // ---- decoding ----

    /** The text of a sequence of ids, through the tokenizer's decoders; invalid UTF-8 becomes U+FFFD. */
    public String decode(int... ids) {
        List<String> strings = new ArrayList<>(ids.length);
        for (int id : ids) strings.add(token(id));
        return Decoder.text(decoder, strings);
    }

    /** The vocabulary entry of an id, in the tokenizer's own spelling (ByteLevel characters, ▁). */
    public String token(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new JlensException("token id " + id + " is not in the tokenizer's vocabulary of " + tokens.length + ".");
        }
        return tokens[id];
    }

    /** Ids 0 .. size − 1, added tokens included. */
    public int size() {
        return tokens.length;
    }

    // ---- TransformerLens's API ----

    /** The token TransformerLens prepends as BOS: the configured one, else {@code <|endoftext|>}. */
    public int bosToken() {
        if (bos != null) return bos;
        AddedToken eot = added.named(END_OF_TEXT);
        if (eot != null) return eot.id();
        throw new JlensException("the tokenizer names no BOS token (no tokenizer_config.json beside it, and no " + END_OF_TEXT + ").");
    }

    /**
     * The token that ends a sequence, where generation stops: the tokenizer config's eos_token, else
     * {@code <|endoftext|>} where the tokenizer has one; null when it has neither.
     */
    public Integer eosToken() {
        if (eos != null) return eos;
        AddedToken eot = added.named(END_OF_TEXT);
        return eot == null ? null : eot.id();
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
}
