package io.slsemu.javatest;

import com.aliyun.openservices.log.common.Consts.CompressType;
import com.aliyun.openservices.log.common.FastLog;
import com.aliyun.openservices.log.common.FastLogContent;
import com.aliyun.openservices.log.common.FastLogGroup;
import com.aliyun.openservices.log.common.FastLogTag;
import com.aliyun.openservices.log.common.LogContent;
import com.aliyun.openservices.log.common.LogItem;
import com.aliyun.openservices.log.common.TagContent;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The data model of the checks: what one PutLogs call wrote, and a comparable form of a LogGroup,
 * built the same way from what was written and from what PullLogs returned.
 */
final class Groups {

    static final BigInteger KEY_SPACE = BigInteger.ONE.shiftLeft(128);
    /** The last shard's exclusiveEndKey is written as ff..ff, not 2^128. */
    static final String LAST_END_KEY = "f".repeat(32);

    private Groups() {}

    record Pair(String key, String value) {
        @Override
        public String toString() {
            String v = value.length() > 60 ? value.substring(0, 40) + "...(" + value.length()
                    + " chars)" : value;
            return key + "=" + v;
        }
    }

    record Log(int time, int timeNs, List<Pair> contents) {}

    /** A LogGroup as compared: topic, source, tags and logs, all in order. */
    record Group(String topic, String source, List<Pair> tags, List<Log> logs) {
        /** The "seq" content of the first log names the write a group came from. */
        String label() {
            for (Pair p : logs.isEmpty() ? List.<Pair>of() : logs.get(0).contents()) {
                if (p.key().equals("seq")) {
                    return p.value().replaceFirst("-\\d+$", "");
                }
            }
            return "?";
        }

        @Override
        public String toString() {
            return String.format("group(%s: topic='%s', source='%s', tags=%s, %d logs)", label(),
                    topic, source, tags, logs.size());
        }
    }

    /** One PutLogs call: one LogGroup on the wire. */
    static final class Write {
        final String label;
        final String topic;
        final String source;
        final List<TagContent> tags;
        final List<LogItem> items;
        final CompressType compress;
        final String hashKey;
        int expectedShard = -1;

        Write(String label, String topic, String source, List<TagContent> tags,
                List<LogItem> items, CompressType compress, String hashKey) {
            this.label = label;
            this.topic = topic;
            this.source = source;
            this.tags = tags;
            this.items = items;
            this.compress = compress;
            this.hashKey = hashKey;
        }

        Group group() {
            List<Pair> tagPairs = new ArrayList<>();
            for (TagContent t : tags) {
                tagPairs.add(new Pair(t.getKey(), t.getValue()));
            }
            List<Log> logs = new ArrayList<>();
            for (LogItem item : items) {
                List<Pair> contents = new ArrayList<>();
                for (LogContent c : item.GetLogContents()) {
                    contents.add(new Pair(c.getKey(), c.getValue()));
                }
                logs.add(new Log(item.GetTime(), item.GetTimeNsPart(), contents));
            }
            return new Group(topic, source, tagPairs, logs);
        }
    }

    /** A pulled LogGroup in comparable form; an absent topic or source reads as "". */
    static Group fromPulled(FastLogGroup g) {
        List<Pair> tags = new ArrayList<>();
        for (FastLogTag t : g.getTags()) {
            tags.add(new Pair(t.getKey(), t.getValue()));
        }
        List<Log> logs = new ArrayList<>();
        for (FastLog log : g.getLogs()) {
            List<Pair> contents = new ArrayList<>();
            for (FastLogContent c : log.getContents()) {
                contents.add(new Pair(c.getKey(), c.getValue()));
            }
            logs.add(new Log(log.getTime(), log.getTimeNsPart(), contents));
        }
        return new Group(Objects.requireNonNullElse(g.getTopic(), ""),
                Objects.requireNonNullElse(g.getSource(), ""), tags, logs);
    }

    /** Compares written and pulled groups as multisets; explains every difference. */
    static void compareMultisets(List<Group> expected, List<Group> actual) {
        Map<Group, Integer> counts = new HashMap<>();
        for (Group g : expected) {
            counts.merge(g, 1, Integer::sum);
        }
        List<Group> extra = new ArrayList<>();
        for (Group g : actual) {
            Integer n = counts.get(g);
            if (n == null) {
                extra.add(g);
            } else if (n == 1) {
                counts.remove(g);
            } else {
                counts.put(g, n - 1);
            }
        }
        if (counts.isEmpty() && extra.isEmpty()) {
            return;
        }
        List<String> problems = new ArrayList<>();
        for (Map.Entry<Group, Integer> e : counts.entrySet()) {
            Group missing = e.getKey();
            Group changed = null;
            for (Group x : extra) {
                if (x.label().equals(missing.label())) {
                    changed = x;
                    break;
                }
            }
            if (changed != null) {
                extra.remove(changed);
                problems.add("write " + missing.label() + " came back changed: "
                        + String.join("; ", diff(missing, changed)));
            } else {
                problems.add("write " + missing.label() + " missing: " + missing);
            }
        }
        for (Group x : extra) {
            problems.add("unexpected " + x);
        }
        Checks.fail("%d written / %d pulled groups; %s", expected.size(), actual.size(),
                String.join(" | ", problems.subList(0, Math.min(8, problems.size()))));
    }

    /** Field-by-field differences between two groups (the first few). */
    static List<String> diff(Group want, Group got) {
        List<String> d = new ArrayList<>();
        if (!want.topic().equals(got.topic())) {
            d.add("topic: got '" + got.topic() + "', expected '" + want.topic() + "'");
        }
        if (!want.source().equals(got.source())) {
            d.add("source: got '" + got.source() + "', expected '" + want.source() + "'");
        }
        if (!want.tags().equals(got.tags())) {
            d.add("tags: got " + got.tags() + ", expected " + want.tags());
        }
        if (want.logs().size() != got.logs().size()) {
            d.add("log count: got " + got.logs().size() + ", expected " + want.logs().size());
        }
        for (int i = 0; i < Math.min(want.logs().size(), got.logs().size()); i++) {
            Log w = want.logs().get(i);
            Log g = got.logs().get(i);
            if (w.time() != g.time()) {
                d.add("log " + i + " time: got " + g.time() + ", expected " + w.time());
            }
            if (w.timeNs() != g.timeNs()) {
                d.add("log " + i + " time_ns: got " + g.timeNs() + ", expected " + w.timeNs());
            }
            if (!w.contents().equals(g.contents())) {
                d.add("log " + i + " contents: got " + g.contents() + ", expected "
                        + w.contents());
            }
        }
        return d.subList(0, Math.min(6, d.size()));
    }

    /** [begin, end) of n shards splitting the MD5 key space evenly, as 32 hex digits. */
    static List<String[]> evenRanges(int n) {
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String begin = hex(KEY_SPACE.multiply(BigInteger.valueOf(i))
                    .divide(BigInteger.valueOf(n)));
            String end = i == n - 1 ? LAST_END_KEY
                    : hex(KEY_SPACE.multiply(BigInteger.valueOf(i + 1))
                            .divide(BigInteger.valueOf(n)));
            out.add(new String[] {begin, end});
        }
        return out;
    }

    static String hex(BigInteger v) {
        return String.format("%032x", v);
    }

    /** Whether key lies in [begin, end), reading the ff..ff end key as 2^128. */
    static boolean inRange(String key, String begin, String end) {
        BigInteger k = new BigInteger(key, 16);
        BigInteger e = end.equals(LAST_END_KEY) ? KEY_SPACE : new BigInteger(end, 16);
        return k.compareTo(new BigInteger(begin, 16)) >= 0 && k.compareTo(e) < 0;
    }

    /** Cursors are base64 of the decimal form of an int64 (SLS-API.md §7). */
    static long cursorValue(String cursor) {
        String padded = cursor + "=".repeat((4 - cursor.length() % 4) % 4);
        String decimal = new String(Base64.getDecoder().decode(padded), StandardCharsets.US_ASCII);
        return Long.parseLong(decimal.trim());
    }
}
