package dev.jlens.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads tokenizer files into a {@link Tokenizer}: Hugging Face's {@code tokenizer.json} (a BPE model
 * with the normalizers, pre-tokenizers and decoders GPT-2, GPT-NeoX, Llama 3, Qwen and Gemma use),
 * GPT-2's {@code vocab.json} and {@code merges.txt}, and the BOS of a {@code tokenizer_config.json}.
 * Every id must lie within the vocabulary, every merge be two tokens and every added token have
 * content; anything else, or a part jlens does not run, is one sentence naming it.
 */
final class TokenizerFiles {
    private TokenizerFiles() {}

    static Tokenizer vocabAndMerges(String vocabJson, String mergesTxt, String source) {
        Map<String, Integer> vocab = readVocab(Json.parse(vocabJson, source), source);
        List<String[]> merges = new ArrayList<>();
        mergesTxt.lines().forEach(line -> {
            if (!line.startsWith("#version") && !line.isBlank()) merges.add(splitMerge(line.stripTrailing(), source));
        });
        List<AddedToken> added = new ArrayList<>();
        Integer eot = vocab.get(Tokenizer.END_OF_TEXT);
        if (eot != null) added.add(new AddedToken(Tokenizer.END_OF_TEXT, eot, true));
        checkIds(vocab, added, source);
        return new Tokenizer(new AddedTokens(added), Normalizer.NONE, new PreTokenizer.ByteLevelPieces(true),
                new Bpe(vocab, merges, false, false, null), new Decoder.ByteLevelBytes(), null);
    }

    static Tokenizer tokenizerJson(String json, String source) {
        JsonNode root = Json.parse(json, source);
        JsonNode model = root.path("model");
        String type = model.path("type").asText(model.has("merges") ? "BPE" : "");
        if (!type.equals("BPE")) {
            throw new JlensException(source + ": the tokenizer model is " + JlensException.quote(type) + ", but jlens reads BPE only.");
        }
        for (String field : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!model.path(field).asText("").isEmpty()) {
                throw new JlensException(source + ": the BPE model's " + field + " is " + JlensException.quote(model.get(field).asText())
                        + ", which jlens does not apply.");
            }
        }
        if (model.path("dropout").asDouble(0) != 0) throw new JlensException(source + ": BPE dropout is for training; jlens tokenizes without it.");
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
        checkIds(vocab, added, source);
        PreTokenizer pre = preTokenizer(root.get("pre_tokenizer"), source);
        String unk = model.hasNonNull("unk_token") ? model.get("unk_token").asText() : null;
        Bpe bpe = new Bpe(vocab, merges, model.path("ignore_merges").asBoolean(false), model.path("byte_fallback").asBoolean(false), unk);
        JsonNode decoderNode = root.get("decoder");
        Decoder decoder = decoderNode == null || decoderNode.isNull()
                ? (byteLevel(pre) ? new Decoder.ByteLevelBytes() : new Decoder.Fuse()) : decoder(decoderNode, source);
        return new Tokenizer(new AddedTokens(added), normalizer(root.get("normalizer"), source), pre, bpe, decoder, null);
    }

    /** The BOS TransformerLens uses for a tokenizer: its config's bos_token, else its eos_token; null without a config. */
    static String configuredBos(Path config) {
        String bos = configured(config, "bos_token");
        return bos != null ? bos : configured(config, "eos_token");
    }

    /** A token a tokenizer config names under {@code field} (a string, or an object with its content); null without one. */
    static String configured(Path config, String field) {
        if (!Files.isRegularFile(config)) return null;
        JsonNode node = Json.read(config).get(field);
        if (node == null || node.isNull()) return null;
        String content = node.isObject() ? node.path("content").asText("") : node.asText("");
        return content.isEmpty() ? null : content;
    }

    private static Normalizer normalizer(JsonNode node, String source) {
        if (node == null || node.isNull()) return Normalizer.NONE;
        String type = node.path("type").asText("");
        return switch (type) {
            case "NFC" -> new Normalizer.Nfc();
            case "Replace" -> new Normalizer.Replace(literal(node, source, "normalizer"), node.path("content").asText(""));
            case "Sequence" -> {
                List<Normalizer> steps = new ArrayList<>();
                for (JsonNode n : node.path("normalizers")) steps.add(normalizer(n, source));
                yield new Normalizer.Sequence(steps);
            }
            default -> throw new JlensException(source + ": the normalizer " + JlensException.quote(type)
                    + " is not supported (jlens runs NFC, Replace and Sequence).");
        };
    }

    private static PreTokenizer preTokenizer(JsonNode node, String source) {
        if (node == null || node.isNull()) return PreTokenizer.NONE;
        String type = node.path("type").asText("");
        return switch (type) {
            case "ByteLevel" -> {
                if (node.path("add_prefix_space").asBoolean(false)) throw new JlensException(source + ": add_prefix_space is not supported.");
                yield new PreTokenizer.ByteLevelPieces(node.path("use_regex").asBoolean(true));
            }
            case "Split" -> {
                if (node.path("invert").asBoolean(false)) throw new JlensException(source + ": an inverted Split pre-tokenizer is not supported.");
                JsonNode pattern = node.path("pattern");
                Pattern compiled;
                if (pattern.has("Regex")) {
                    try {
                        // Oniguruma's \\s, \\p{L} and (?i) are Unicode-aware; so are Java's with UNICODE_CHARACTER_CLASS.
                        compiled = Pattern.compile(pattern.get("Regex").asText(), Pattern.UNICODE_CHARACTER_CLASS);
                    } catch (PatternSyntaxException e) {
                        throw new JlensException(source + ": the Split pattern " + JlensException.quote(pattern.get("Regex").asText())
                                + " is not a regular expression jlens can compile.", e);
                    }
                } else {
                    compiled = Pattern.compile(Pattern.quote(literal(node, source, "pre-tokenizer")));
                }
                String behavior = node.path("behavior").asText("");
                yield new PreTokenizer.Split(compiled, switch (behavior) {
                    case "Isolated" -> PreTokenizer.Behavior.ISOLATED;
                    case "Removed" -> PreTokenizer.Behavior.REMOVED;
                    case "MergedWithPrevious" -> PreTokenizer.Behavior.MERGED_WITH_PREVIOUS;
                    case "MergedWithNext" -> PreTokenizer.Behavior.MERGED_WITH_NEXT;
                    default -> throw new JlensException(source + ": the Split behavior " + JlensException.quote(behavior) + " is not supported.");
                });
            }
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                for (JsonNode n : node.path("pretokenizers")) steps.add(preTokenizer(n, source));
                yield new PreTokenizer.Sequence(steps);
            }
            default -> throw new JlensException(source + ": the pre-tokenizer " + JlensException.quote(type)
                    + " is not supported (jlens runs ByteLevel, Split and Sequence).");
        };
    }

    private static boolean byteLevel(PreTokenizer pre) {
        return switch (pre) {
            case PreTokenizer.ByteLevelPieces b -> true;
            case PreTokenizer.Sequence s -> s.steps().stream().anyMatch(TokenizerFiles::byteLevel);
            default -> false;
        };
    }

    private static Decoder decoder(JsonNode node, String source) {
        String type = node.path("type").asText("");
        return switch (type) {
            case "ByteLevel" -> new Decoder.ByteLevelBytes();
            case "Replace" -> new Decoder.Replace(literal(node, source, "decoder"), node.path("content").asText(""));
            case "ByteFallback" -> new Decoder.ByteFallback();
            case "Fuse" -> new Decoder.Fuse();
            case "Sequence" -> {
                List<Decoder> steps = new ArrayList<>();
                for (JsonNode n : node.path("decoders")) steps.add(decoder(n, source));
                yield new Decoder.Sequence(steps);
            }
            default -> throw new JlensException(source + ": the decoder " + JlensException.quote(type)
                    + " is not supported (jlens runs ByteLevel, Replace, ByteFallback, Fuse and Sequence).");
        };
    }

    /** A Replace's or Split's {"String": ...} pattern. */
    private static String literal(JsonNode node, String source, String what) {
        JsonNode s = node.path("pattern").get("String");
        if (s == null || !s.isTextual() || s.asText().isEmpty()) {
            throw new JlensException(source + ": a " + node.path("type").asText() + " " + what + " has no string pattern jlens can apply.");
        }
        return s.asText();
    }

    private static Map<String, Integer> readVocab(JsonNode node, String source) {
        if (!node.isObject() || node.isEmpty()) throw new JlensException(source + ": has no vocabulary.");
        Map<String, Integer> vocab = new LinkedHashMap<>(node.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode id = e.getValue();
            if (!id.isIntegralNumber() || !id.canConvertToInt()) {
                throw new JlensException(source + ": the id of token " + JlensException.quote(e.getKey()) + " is " + JlensException.quote(id.toString())
                        + ", not a whole number.");
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
     * Every id (the added tokens' too) must lie in 0 .. (number of tokens − 1) and every added token
     * have content: an id of a billion would otherwise size an array, and an empty added token would
     * match everywhere.
     */
    private static void checkIds(Map<String, Integer> vocab, List<AddedToken> added, String source) {
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
    }
}
