package io.slsemu.javatest;

import static io.slsemu.javatest.Checks.expect;
import static io.slsemu.javatest.Checks.expectEq;
import static io.slsemu.javatest.Checks.expectLogError;
import static io.slsemu.javatest.Checks.fail;

import com.aliyun.openservices.log.Client;
import com.aliyun.openservices.log.common.ConsumerGroup;
import com.aliyun.openservices.log.common.ConsumerGroupShardCheckPoint;
import com.aliyun.openservices.log.common.Consts.CompressType;
import com.aliyun.openservices.log.common.Consts.CursorMode;
import com.aliyun.openservices.log.common.LogGroupData;
import com.aliyun.openservices.log.common.LogItem;
import com.aliyun.openservices.log.common.LogStore;
import com.aliyun.openservices.log.common.Project;
import com.aliyun.openservices.log.common.Shard;
import com.aliyun.openservices.log.common.TagContent;
import com.aliyun.openservices.log.exception.LogException;
import com.aliyun.openservices.log.http.client.ClientConfiguration;
import com.aliyun.openservices.log.http.signer.SignVersion;
import com.aliyun.openservices.log.request.PullLogsRequest;
import com.aliyun.openservices.log.request.PutLogsRequest;
import com.aliyun.openservices.log.response.GetLogStoreResponse;
import com.aliyun.openservices.log.response.GetProjectResponse;
import com.aliyun.openservices.log.response.ListLogStoresResponse;
import com.aliyun.openservices.log.response.ListProjectResponse;
import com.aliyun.openservices.log.response.PullLogsResponse;
import io.slsemu.javatest.Groups.Group;
import io.slsemu.javatest.Groups.Write;
import io.slsemu.javatest.common.Connection;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * End-to-end checks of sls-emu through the official, unmodified Java SDK
 * (com.aliyun.openservices:aliyun-log 0.6.151), the Java twin of tests/python/sdk_core.py.
 *
 * <p>It creates a project and a 4-shard logstore, lists the shards, writes logs (lz4, zstd,
 * uncompressed, load-balanced and by hash key), reads cursors, pulls everything back (lz4 and
 * zstd) and compares it field by field with what it wrote, splits and merges shards, exercises
 * the consumer-group APIs, checks the errors the SDK surfaces, and deletes what it made. Nothing
 * is hard-coded as a result: everything read back is compared with what this run wrote or with
 * values computed from the protocol's rules (shared/protocol/SLS-API.md).
 */
@Command(name = "sls-java-sdk", mixinStandardHelpOptions = true, sortOptions = false,
        resourceBundle = "sls-java-sdk",
        description = "Core API checks of sls-emu through the official aliyun-log Java SDK.")
public final class SdkCore implements Callable<Integer> {

    static final int SHARD_COUNT = 4;
    static final int TTL_CREATE = 7;
    static final int TTL_UPDATE = 14;
    static final String UTF8_TEXT = "héllo wörld, 日志服务, Ελληνικά, emoji \uD83D\uDE80";

    enum Sign { V1, V4 }

    @Mixin
    Connection connection;

    @Option(names = "--proxy", converter = HostPort.Converter.class,
            description = "HOST:PORT of the emulator, used as the SDK's HTTP proxy "
                    + "(requests arrive in absolute form). Without it: port 80 of the endpoint.")
    HostPort proxy;

    @Option(names = "--sign", defaultValue = "v1", description = "v1 or v4 (default v1).")
    Sign sign;

    @Option(names = "--region", defaultValue = "cn-hangzhou",
            description = "Region signed for with --sign v4 (default ${DEFAULT-VALUE}).")
    String region;

    @Option(names = "--project", description = "Project to create (default java-sdk-<random>).")
    String project;

    @Option(names = "--expect-signature-error",
            description = "The secret is wrong on purpose: only check that a call fails with "
                    + "SignatureNotMatch (401).")
    boolean expectSignatureError;

    @Option(names = "--skip-signature-check",
            description = "Skip the wrong-secret check (for an emulator run with --auth off).")
    boolean skipSignatureCheck;

    @Option(names = "--deadline-secs", defaultValue = "300",
            description = "Give up (exit 1) after this many seconds (default ${DEFAULT-VALUE}).")
    int deadlineSecs;

    private final Checks checks = new Checks();
    private final Random random = new SecureRandom();
    private final long tStart = System.currentTimeMillis() / 1000;
    private Client client;
    private String logstore = "core-logs";
    private String group;
    private String description;
    private boolean createdProject;
    private List<Shard> shards;
    private final List<Write> writesDone = new ArrayList<>();

    public static void main(String[] args) {
        // Before any logger exists: the SDK's HTTP stack logs warnings and errors only.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        CommandLine cli = new CommandLine(new SdkCore()).setCaseInsensitiveEnumValuesAllowed(true);
        System.exit(cli.execute(args));
    }

    @Override
    public Integer call() {
        startDeadline();
        String suffix = randomName(10);
        if (project == null) {
            project = "java-sdk-" + suffix;
        }
        group = "java-sdk-cg-" + suffix;
        description = "sls-emu java sdk_core " + project;
        System.out.printf("sls-java-sdk: aliyun-log %s, endpoint %s, %s, sign %s, project %s%n",
                sdkVersion(), connection.endpoint,
                proxy == null ? "no proxy" : "proxy " + proxy, sign, project);
        client = makeClient(connection.accessKeySecret);
        try {
            if (expectSignatureError) {
                checks.run("error_signature_not_match", this::checkBadSecret);
            } else {
                runAll();
            }
        } catch (Checks.Abort ex) {
            System.out.printf("ABORT after %s failed; the checks after it depend on it%n",
                    ex.getMessage());
            cleanup();
        } finally {
            client.shutdown();
        }
        System.out.printf("sls-java-sdk: %d passed, %d failed%n", checks.passedCount(),
                checks.failedCount());
        if (checks.failedCount() > 0) {
            System.out.println("sls-java-sdk: failed checks: "
                    + String.join(", ", checks.failedNames()));
            return 1;
        }
        return 0;
    }

    private void runAll() {
        checks.fatal("create_project", () -> {
            client.CreateProject(project, description);
            createdProject = true;
        });
        checks.run("get_project", this::checkGetProject);
        checks.run("list_project", this::checkListProject);
        checks.run("error_project_not_exist", () -> expectLogError(
                () -> client.GetProject("java-sdk-missing-" + randomName(8)),
                "ProjectNotExist", 404));
        // LogStore(name, ttl, shards) as most applications write it: the SDK then sends
        // autoSplit=false, maxSplitShard=-1 and resourceQuota.storage.preserved=-1 too.
        checks.fatal("create_logstore", () -> client.CreateLogStore(project,
                new LogStore(logstore, TTL_CREATE, SHARD_COUNT)));
        checks.run("get_logstore", () -> checkLogstore(TTL_CREATE));
        checks.run("list_logstore", this::checkListLogstore);
        checks.run("update_logstore", this::checkUpdateLogstore);
        checks.run("error_logstore_not_exist", () -> expectLogError(
                () -> client.GetLogStore(project, "missing-logstore"), "LogStoreNotExist", 404));
        checks.run("error_logstore_already_exist", () -> expectLogError(
                () -> client.CreateLogStore(project,
                        new LogStore(logstore, TTL_CREATE, SHARD_COUNT)),
                "LogStoreAlreadyExist", 400));
        checks.run("list_shards", this::checkListShards);
        checks.run("cursors_empty_shards", this::checkCursorsEmpty);

        for (Write w : planWrites()) {
            String how = w.hashKey == null ? "load-balanced" : "hash key " + w.hashKey;
            checks.run(String.format("put_logs_%s (%s, %s, %d logs)", w.label,
                    w.compress == CompressType.NONE ? "uncompressed" : w.compress.toString(), how,
                    w.items.size()), () -> put(w));
        }
        if (writesDone.isEmpty()) {
            throw new Checks.Abort("every put_logs call");
        }
        checks.run("get_cursor_begin_end_time", this::checkCursors);
        checks.run("pull_logs_lz4_compare (count=2)",
                () -> checkPullCompare(2, CompressType.LZ4));
        checks.run("pull_logs_zstd_compare (count=1000)",
                () -> checkPullCompare(1000, CompressType.ZSTD));
        checks.run("pull_logs_end_cursor", this::checkPullEndCursor);
        checks.run("pull_logs_at_end", this::checkPullAtEnd);
        checks.run("error_garbage_cursor", () -> expectLogError(
                () -> client.pullLogs(new PullLogsRequest(project, logstore, 0, 10,
                        "!!not*a*cursor!!")),
                "ParameterInvalid", 400));
        checks.run("error_shard_not_exist", () -> expectLogError(
                () -> client.GetCursor(project, logstore, SHARD_COUNT + 96, CursorMode.BEGIN),
                "ShardNotExist", 404));

        checks.run("split_shard", this::checkSplit);
        checks.run("merge_shards", this::checkMerge);
        checks.run("put_pull_after_split_merge", this::checkPutAfterMerge);

        checks.fatal("create_consumer_group", () -> client.CreateConsumerGroup(project, logstore,
                new ConsumerGroup(group, 60, true)));
        checks.run("list_consumer_group", () -> checkListedGroup(60, true));
        checks.run("error_consumer_group_already_exist", () -> expectLogError(
                () -> client.CreateConsumerGroup(project, logstore,
                        new ConsumerGroup(group, 60, true)),
                "ConsumerGroupAlreadyExist", 400));
        checks.run("update_consumer_group", () -> {
            client.UpdateConsumerGroup(project, logstore, group, false, 90);
            checkListedGroup(90, false);
        });
        List<Integer> held = checks.check("heartbeat", this::checkHeartbeat);
        checks.run("update_and_get_checkpoint", () -> checkCheckpoints(held));
        checks.run("error_checkpoint_not_owner", () -> expectLogError(
                () -> client.UpdateCheckPoint(project, logstore, group, "java-intruder", 0,
                        client.GetCursor(project, logstore, 0, CursorMode.END).GetCursor()),
                Set.of("ConsumerNotExist", "ConsumerNotMatch"), 0));
        checks.run("delete_consumer_group", () -> {
            client.DeleteConsumerGroup(project, logstore, group);
            boolean listed = client.ListConsumerGroup(project, logstore).GetConsumerGroups()
                    .stream().anyMatch(g -> g.getConsumerGroupName().equals(group));
            expect(!listed, "deleted consumer group %s is still listed", group);
        });

        if (!skipSignatureCheck) {
            checks.run("error_signature_not_match", this::checkBadSecret);
        }
        checks.run("delete_logstore", () -> {
            client.DeleteLogStore(project, logstore);
            expectLogError(() -> client.GetLogStore(project, logstore), "LogStoreNotExist", 404);
        });
        checks.run("delete_project", () -> {
            client.DeleteProject(project);
            createdProject = false;
            expectLogError(() -> client.GetProject(project), "ProjectNotExist", 404);
        });
    }

    // ---- client ------------------------------------------------------------------------- //

    private Client makeClient(String secret) {
        ClientConfiguration config = new ClientConfiguration();
        if (proxy != null) {
            config.setProxyHost(proxy.host());
            config.setProxyPort(proxy.port());
        }
        if (sign == Sign.V4) {
            // Deprecated on ClientConfiguration, but the only place 0.6.151 reads them from
            // when it builds its signer: Client.setSignatureVersion/setRegion after construction
            // only set fields the existing signer never sees.
            config.setSignatureVersion(SignVersion.V4);
            config.setRegion(region);
        }
        return new Client(connection.endpoint, connection.accessKeyId, secret, config);
    }

    // ---- projects and logstores --------------------------------------------------------- //

    private void checkGetProject() throws LogException {
        GetProjectResponse r = client.GetProject(project);
        expectEq(r.GetProjectDescription(), description, "description");
        expectEq(r.GetProjectStatus(), "Normal", "status");
        expect(r.GetProjectRegion() != null, "region is missing");
        expect(r.GetProjectOwner() != null, "owner is missing");
        expect(r.GetRequestId() != null && !r.GetRequestId().isEmpty(), "no x-log-requestid");
        long now = System.currentTimeMillis() / 1000;
        for (String[] f : new String[][] {{"createTime", r.getCreateTime()},
                {"lastModifyTime", r.getLastModifyTime()}}) {
            expect(f[1] != null && f[1].matches("\\d+"),
                    "%s must be a string of unix seconds, got %s", f[0], f[1]);
            long t = Long.parseLong(f[1]);
            expect(tStart - 300 <= t && t <= now + 300, "%s=%d is not near the creation time %d",
                    f[0], t, tStart);
        }
    }

    private void checkListProject() throws LogException {
        ListProjectResponse r = client.ListProject(project, 0, 500);
        List<String> names = r.getProjects().stream().map(Project::getProjectName).toList();
        expect(names.contains(project), "projectName=%s filter does not list it: %s", project,
                names);
        expect(names.stream().allMatch(n -> n.contains(project)),
                "projectName=%s filter listed non-matching names %s", project, names);
        expectEq(r.getCount(), names.size(), "count");
        expect(r.getTotal() >= r.getCount(), "total %d < count %d", r.getTotal(), r.getCount());
        List<String> all = client.ListProject("", 0, 500).getProjects().stream()
                .map(Project::getProjectName).toList();
        expect(all.contains(project), "%s not among %d listed projects", project, all.size());
    }

    private void checkLogstore(int ttl) throws LogException {
        GetLogStoreResponse r = client.GetLogStore(project, logstore);
        LogStore ls = r.GetLogStore();
        expectEq(ls.GetLogStoreName(), logstore, "logstoreName");
        expectEq(ls.GetTtl(), ttl, "ttl");
        expectEq(ls.GetShardCount(), SHARD_COUNT, "shardCount");
        long now = System.currentTimeMillis() / 1000;
        for (int t : new int[] {ls.GetCreateTime(), ls.GetLastModifyTime()}) {
            expect(tStart - 300 <= t && t <= now + 300,
                    "createTime/lastModifyTime %d is not near the creation time %d", t, tStart);
        }
    }

    private void checkListLogstore() throws LogException {
        ListLogStoresResponse r = client.ListLogStores(project, 0, 100, "");
        expect(r.GetLogStores().contains(logstore), "%s not in %s", logstore, r.GetLogStores());
        expectEq(r.GetCount(), r.GetLogStores().size(), "count");
        expect(r.GetTotal() >= r.GetCount(), "total %d < count %d", r.GetTotal(), r.GetCount());
        ListLogStoresResponse filtered = client.ListLogStores(project, 0, 100, logstore);
        expect(filtered.GetLogStores().contains(logstore),
                "logstoreName filter does not list %s: %s", logstore, filtered.GetLogStores());
    }

    private void checkUpdateLogstore() throws LogException {
        // The documented way: read the logstore, change a field, send it all back.
        LogStore ls = client.GetLogStore(project, logstore).GetLogStore();
        ls.SetTtl(TTL_UPDATE);
        client.UpdateLogStore(project, ls);
        checkLogstore(TTL_UPDATE);
    }

    // ---- shards and cursors -------------------------------------------------------------- //

    private List<Shard> listShards() throws LogException {
        List<Shard> list = new ArrayList<>(client.ListShard(project, logstore).GetShards());
        list.sort(Comparator.comparingInt(Shard::getShardId));
        return list;
    }

    private void checkListShards() throws LogException {
        List<Shard> list = listShards();
        expectEq(list.stream().map(Shard::getShardId).toList(),
                List.of(0, 1, 2, 3), "shard ids");
        List<String[]> ranges = Groups.evenRanges(SHARD_COUNT);
        for (Shard s : list) {
            int id = s.getShardId();
            expectEq(s.getStatus(), "readwrite", "shard " + id + " status");
            expectEq(s.getInclusiveBeginKey(), ranges.get(id)[0],
                    "shard " + id + " inclusiveBeginKey");
            expectEq(s.getExclusiveEndKey(), ranges.get(id)[1],
                    "shard " + id + " exclusiveEndKey");
            expect(s.getCreateTime() > 0, "shard %d createTime %d", id, s.getCreateTime());
        }
        shards = list;
    }

    private String cursor(int shard, CursorMode mode) throws LogException {
        return client.GetCursor(project, logstore, shard, mode).GetCursor();
    }

    private void checkCursorsEmpty() throws LogException {
        for (int sid = 0; sid < SHARD_COUNT; sid++) {
            String b = cursor(sid, CursorMode.BEGIN);
            String e = cursor(sid, CursorMode.END);
            Groups.cursorValue(b); // must decode
            expectEq(b, e, "shard " + sid + ": begin and end cursors of an empty shard");
            PullLogsResponse r = client.pullLogs(new PullLogsRequest(project, logstore, sid, 10,
                    b));
            expectEq(r.getCount(), 0, "shard " + sid + ": pull on an empty shard, count");
            expectEq(r.getLogGroups().size(), 0, "shard " + sid + ": groups on an empty shard");
            expectEq(r.getNextCursor(), b, "shard " + sid + ": next cursor on an empty shard");
        }
    }

    private void checkCursors() throws LogException {
        long now = System.currentTimeMillis() / 1000;
        for (int sid = 0; sid < SHARD_COUNT; sid++) {
            String b = cursor(sid, CursorMode.BEGIN);
            String e = cursor(sid, CursorMode.END);
            long bi = Groups.cursorValue(b);
            long ei = Groups.cursorValue(e);
            expect(bi <= ei, "shard %d: begin %d > end %d", sid, bi, ei);
            // Before everything -> begin; after everything -> end (SLS-API.md §7).
            String past = client.GetCursor(project, logstore, sid, tStart - 86400).GetCursor();
            expectEq(past, b, "shard " + sid + ": cursor for a time before all data");
            String future = client.GetCursor(project, logstore, sid, now + 86400).GetCursor();
            expectEq(future, e, "shard " + sid + ": cursor for a time after all data");
            if (bi < ei) {
                int ct = client.GetCursorTime(project, logstore, sid, b).GetCursorTime();
                long later = System.currentTimeMillis() / 1000;
                expect(tStart - 5 <= ct && ct <= later + 5,
                        "shard %d: cursor_time %d of the first group is not the time it was "
                                + "received (between %d and %d)", sid, ct, tStart, later);
                // A cursor by that receive time finds the first group again.
                String byTime = client.GetCursor(project, logstore, sid, ct).GetCursor();
                expectEq(byTime, b, "shard " + sid + ": cursor for the first group's time " + ct);
            }
        }
    }

    // ---- writes ------------------------------------------------------------------------ //

    private List<Write> planWrites() {
        int base = (int) (System.currentTimeMillis() / 1000) - 120;
        TagContent runTag = new TagContent("run", project);
        StringBuilder compressible = new StringBuilder();
        for (int i = 0; i < 1200; i++) {
            compressible.append(String.format(
                    "line %06d: the quick brown fox jumps over the lazy dog%n", i));
        }
        String bigA = compressible.toString(); // ~70 KB: real lz4/zstd matches
        String bigB = new BigInteger(80000, random).toString(16); // ~20 KB, incompressible
        List<Write> ws = new ArrayList<>();
        ws.add(new Write("lb-lz4", "topic-lz4", "10.0.0.1",
                List.of(runTag, new TagContent("tag-a", "alpha")),
                items("lb-lz4", 3, base, List.of(List.of("utf8", UTF8_TEXT),
                        List.of("big", bigA), List.of("empty", ""))),
                CompressType.LZ4, null));
        ws.add(new Write("lb-zstd", "topic-zstd", "10.0.0.2",
                List.of(runTag, new TagContent("tag-b", "βeta")),
                items("lb-zstd", 25, base + 10, List.of(List.of("big", bigA, "noise", bigB),
                        List.of("utf8", UTF8_TEXT))),
                CompressType.ZSTD, null));
        ws.add(new Write("lb-raw", "", "10.0.0.3", List.of(),
                items("lb-raw", 2, base + 40, List.of(List.of("utf8", UTF8_TEXT))),
                CompressType.NONE, null));
        // Hash-key writes: one per shard, on the boundaries and inside the ranges.
        BigInteger quarter = Groups.KEY_SPACE.shiftRight(2);
        String[] keys = {
            "0".repeat(32), // lowest key -> shard 0
            "7" + "f".repeat(31), // just below 80.. -> shard 1
            "8" + "0".repeat(31), // inclusive begin of shard 2
            Groups.hex(quarter.multiply(BigInteger.valueOf(3))
                    .add(new BigInteger(126, random))), // inside shard 3
        };
        CompressType[] modes = {CompressType.LZ4, CompressType.ZSTD, CompressType.NONE,
            CompressType.LZ4};
        for (int i = 0; i < keys.length; i++) {
            String label = "hash-" + i;
            ws.add(new Write(label, "topic-hash", "192.168." + i + "." + (i + 1),
                    List.of(runTag, new TagContent("hashkey", keys[i])),
                    items(label, 2 + i, base + 50 + 5 * i, List.of(List.of("utf8", UTF8_TEXT))),
                    modes[i], keys[i]));
        }
        return ws;
    }

    /** n logs with distinct contents; the first content "seq" is unique per log. */
    private List<LogItem> items(String label, int n, int baseTime, List<List<String>> extra) {
        String[] levels = {"INFO", "WARN", "ERROR"};
        List<LogItem> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            LogItem item = new LogItem(baseTime + i);
            item.SetTimeNsPart(1 + random.nextInt(999_999_999));
            item.PushBack("seq", label + "-" + i);
            item.PushBack("level", levels[i % 3]);
            item.PushBack("message", "message " + i + " of " + label + ": " + randomName(12));
            item.PushBack("latency_ms", Integer.toString(random.nextInt(100_000)));
            if (i < extra.size()) {
                List<String> kv = extra.get(i);
                for (int k = 0; k + 1 < kv.size(); k += 2) {
                    item.PushBack(kv.get(k), kv.get(k + 1));
                }
            }
            out.add(item);
        }
        return out;
    }

    private void put(Write w) throws LogException {
        if (w.hashKey != null) {
            w.expectedShard = shardForKey(w.hashKey);
        }
        PutLogsRequest req = new PutLogsRequest(project, logstore, w.topic, w.source, w.items,
                w.hashKey);
        req.SetTags(w.tags);
        req.setCompressType(w.compress);
        String rid = client.PutLogs(req).GetRequestId();
        writesDone.add(w);
        expect(rid != null && !rid.isEmpty(), "PutLogs answer has no x-log-requestid");
    }

    /** The readwrite shard whose range holds key (a readonly parent keeps its range). */
    private int shardForKey(String key) {
        if (shards != null) {
            for (Shard s : shards) {
                if (s.getStatus().equals("readwrite")
                        && Groups.inRange(key, s.getInclusiveBeginKey(), s.getExclusiveEndKey())) {
                    return s.getShardId();
                }
            }
            throw fail("no shard holds hash key %s", key);
        }
        List<String[]> ranges = Groups.evenRanges(SHARD_COUNT);
        for (int i = 0; i < ranges.size(); i++) {
            if (Groups.inRange(key, ranges.get(i)[0], ranges.get(i)[1])) {
                return i;
            }
        }
        throw fail("no shard holds hash key %s", key);
    }

    // ---- pulls ------------------------------------------------------------------------- //

    /** Pulls a shard from begin to end; returns the groups in order. */
    private List<Group> pullShard(int sid, int count, CompressType accept) throws LogException {
        String cursor = cursor(sid, CursorMode.BEGIN);
        String end = cursor(sid, CursorMode.END);
        List<Group> out = new ArrayList<>();
        for (int i = 0; i < 10_000 && !cursor.equals(end); i++) {
            PullLogsRequest req = new PullLogsRequest(project, logstore, sid, count, cursor);
            req.setCompressType(accept); // sent as Accept-Encoding
            PullLogsResponse r = client.pullLogs(req);
            int n = r.getCount();
            List<LogGroupData> groups = r.getLogGroups(); // the SDK checks n against the body
            expect(0 < n && n <= count, "shard %d: pulled %d groups with count=%d before the end "
                    + "cursor (cursor %s, end %s)", sid, n, count, cursor, end);
            String next = r.getNextCursor();
            expectEq(Groups.cursorValue(next), Groups.cursorValue(cursor) + n,
                    "shard " + sid + ": next cursor = cursor + groups returned");
            expectEq(header(r.GetAllHeaders(), "x-log-compresstype"), accept.toString(),
                    "shard " + sid + ": x-log-compresstype answering Accept-Encoding " + accept);
            for (LogGroupData g : groups) {
                out.add(Groups.fromPulled(g.GetFastLogGroup()));
            }
            cursor = next;
        }
        expectEq(cursor, end, "shard " + sid + ": cursor after pulling everything");
        return out;
    }

    private void checkPullCompare(int count, CompressType accept) throws LogException {
        Map<Integer, List<Group>> perShard = new TreeMap<>();
        List<Group> everything = new ArrayList<>();
        for (int sid = 0; sid < SHARD_COUNT; sid++) {
            perShard.put(sid, pullShard(sid, count, accept));
            everything.addAll(perShard.get(sid));
        }
        List<Group> written = writesDone.stream().map(Write::group).toList();
        Groups.compareMultisets(written, everything);
        // Hash-key writes must sit in the shard whose range holds the key.
        for (Write w : writesDone) {
            if (w.hashKey == null) {
                continue;
            }
            Group g = w.group();
            List<Integer> where = perShard.entrySet().stream()
                    .filter(e -> e.getValue().contains(g)).map(Map.Entry::getKey).toList();
            expectEq(where, List.of(w.expectedShard), "shards holding write " + w.label
                    + " (hash key " + w.hashKey + ")");
        }
        // Groups come back in write order within a shard.
        Map<Group, Integer> order = new HashMap<>();
        for (int i = 0; i < written.size(); i++) {
            order.put(written.get(i), i);
        }
        for (Map.Entry<Integer, List<Group>> e : perShard.entrySet()) {
            List<Integer> idx = e.getValue().stream().map(order::get).toList();
            List<Integer> sorted = idx.stream().sorted().toList();
            expectEq(idx, sorted, "shard " + e.getKey() + ": write order of the pulled groups");
        }
    }

    private void checkPullEndCursor() throws LogException {
        for (int sid = 0; sid < SHARD_COUNT; sid++) {
            String b = cursor(sid, CursorMode.BEGIN);
            String e = cursor(sid, CursorMode.END);
            if (Groups.cursorValue(e) - Groups.cursorValue(b) < 2) {
                continue;
            }
            PullLogsResponse one = client.pullLogs(new PullLogsRequest(project, logstore, sid, 1,
                    b));
            expectEq(one.getCount(), 1, "shard " + sid + ": pull with count=1");
            String stop = one.getNextCursor();
            PullLogsResponse r = client.pullLogs(new PullLogsRequest(project, logstore, sid, 100,
                    b, stop));
            expectEq(r.getCount(), 1, "shard " + sid + ": pull up to end_cursor=" + stop);
            expectEq(r.getNextCursor(), stop, "shard " + sid + ": next cursor of a bounded pull");
            expectEq(Groups.fromPulled(r.getLogGroup(0).GetFastLogGroup()),
                    Groups.fromPulled(one.getLogGroup(0).GetFastLogGroup()),
                    "shard " + sid + ": group returned by the bounded pull");
            return;
        }
        fail("no shard has two groups to test end_cursor with");
    }

    private void checkPullAtEnd() throws LogException {
        for (int sid = 0; sid < SHARD_COUNT; sid++) {
            String e = cursor(sid, CursorMode.END);
            for (CompressType accept : new CompressType[] {CompressType.LZ4, CompressType.ZSTD}) {
                PullLogsRequest req = new PullLogsRequest(project, logstore, sid, 100, e);
                req.setCompressType(accept);
                PullLogsResponse r = client.pullLogs(req);
                String what = "shard " + sid + " (" + accept + ") at the end: ";
                expectEq(r.getCount(), 0, what + "count");
                expectEq(r.getLogGroups().size(), 0, what + "groups in the body");
                expectEq(r.getNextCursor(), e, what + "next cursor");
            }
        }
    }

    // ---- split and merge ---------------------------------------------------------------- //

    private static String describeShards(List<Shard> list) {
        return list.stream().map(s -> String.format("%d:%s[%s,%s)", s.getShardId(),
                s.getStatus(), s.getInclusiveBeginKey().substring(0, 4),
                s.getExclusiveEndKey().substring(0, 4))).collect(Collectors.joining(" "));
    }

    private static void expectShard(Shard s, int id, String status, String begin, String end) {
        String got = describeShards(List.of(s));
        expect(s.getShardId() == id && s.getStatus().equals(status)
                && s.getInclusiveBeginKey().equals(begin) && s.getExclusiveEndKey().equals(end),
                "shard %s, expected %d:%s[%s,%s)", got, id, status, begin, end);
    }

    private void checkSplit() throws LogException {
        String begin = "4" + "0".repeat(31);
        String mid = "6" + "0".repeat(31);
        String end = "8" + "0".repeat(31);
        List<Shard> answer = client.SplitShard(project, logstore, 1, mid).GetShards();
        // SLS answers the parent first, then the children ascending (SLS-API.md §8).
        expectEq(answer.size(), 3, "shards in the split answer (" + describeShards(answer) + ")");
        expectShard(answer.get(0), 1, "readonly", begin, end);
        expectShard(answer.get(1), 4, "readwrite", begin, mid);
        expectShard(answer.get(2), 5, "readwrite", mid, end);
        List<Shard> list = listShards();
        expectEq(list.stream().map(Shard::getShardId).toList(), List.of(0, 1, 2, 3, 4, 5),
                "shard ids after the split (" + describeShards(list) + ")");
        expectShard(list.get(1), 1, "readonly", begin, end);
        expectShard(list.get(4), 4, "readwrite", begin, mid);
        expectShard(list.get(5), 5, "readwrite", mid, end);
        expectLogError(() -> client.SplitShard(project, logstore, 1, "5" + "0".repeat(31)),
                Set.of("ShardNotExist", "ParameterInvalid", "ShardReadOnly"), 0);
        // The readonly parent keeps its data: the hash-1 write is still there.
        expect(pullShard(1, 100, CompressType.LZ4).stream()
                .anyMatch(g -> g.label().equals("hash-1")),
                "the readonly parent 1 lost the hash-1 write");
        shards = list;
    }

    private void checkMerge() throws LogException {
        String begin = "4" + "0".repeat(31);
        String mid = "6" + "0".repeat(31);
        String end = "8" + "0".repeat(31);
        List<Shard> answer = client.MergeShards(project, logstore, 4).GetShards();
        // SLS answers the new shard first, then the two parents.
        expectEq(answer.size(), 3, "shards in the merge answer (" + describeShards(answer) + ")");
        expectShard(answer.get(0), 6, "readwrite", begin, end);
        expectShard(answer.get(1), 4, "readonly", begin, mid);
        expectShard(answer.get(2), 5, "readonly", mid, end);
        List<Shard> list = listShards();
        expectEq(list.stream().map(Shard::getShardId).toList(), List.of(0, 1, 2, 3, 4, 5, 6),
                "shard ids after the merge (" + describeShards(list) + ")");
        List<Integer> readwrite = list.stream().filter(s -> s.getStatus().equals("readwrite"))
                .map(Shard::getShardId).toList();
        expectEq(readwrite, List.of(0, 2, 3, 6), "readwrite shards after the merge");
        expectEq(client.GetLogStore(project, logstore).GetLogStore().GetShardCount(), 4,
                "logstore shardCount (readwrite shards) after split and merge");
        shards = list;
    }

    private void checkPutAfterMerge() throws LogException {
        // A key in [40.., 80..) now routes to the merged shard 6, never to a readonly parent.
        String key = "5" + "0".repeat(31);
        Write w = new Write("after-merge", "topic-merge", "10.0.0.9",
                List.of(new TagContent("run", project)),
                items("after-merge", 2, (int) (System.currentTimeMillis() / 1000), List.of()),
                CompressType.LZ4, key);
        put(w);
        expectEq(w.expectedShard, 6, "shard whose range holds " + key);
        PullLogsResponse r = client.pullLogs(new PullLogsRequest(project, logstore, 6, 10,
                cursor(6, CursorMode.BEGIN)));
        List<Group> got = new ArrayList<>();
        for (LogGroupData g : r.getLogGroups()) {
            got.add(Groups.fromPulled(g.GetFastLogGroup()));
        }
        expectEq(got, List.of(w.group()), "groups in the merged shard 6");
    }

    // ---- consumer groups ---------------------------------------------------------------- //

    private void checkListedGroup(int timeout, boolean inOrder) throws LogException {
        List<ConsumerGroup> groups = client.ListConsumerGroup(project, logstore)
                .GetConsumerGroups();
        ConsumerGroup g = groups.stream().filter(x -> x.getConsumerGroupName().equals(group))
                .findFirst().orElse(null);
        expect(g != null, "consumer group %s not listed: %s", group, groups);
        expectEq(g.getTimeout(), timeout, "timeout");
        expectEq(g.isInOrder(), inOrder, "order");
    }

    /** Heartbeats until the assignment is stable; returns the shards held. */
    private List<Integer> checkHeartbeat() throws LogException {
        Set<Integer> all = shards.stream().map(Shard::getShardId).collect(Collectors.toSet());
        List<Integer> held = new ArrayList<>();
        List<Integer> answer = List.of();
        for (int i = 0; i < 5; i++) {
            answer = new ArrayList<>(client.HeartBeat(project, logstore, group, "java-c1",
                    held).getShards());
            answer.sort(null);
            expect(all.containsAll(answer), "heartbeat answered shards %s, not all among %s",
                    answer, all);
            if (answer.equals(held) && !answer.isEmpty()) {
                return held;
            }
            held = answer;
        }
        throw fail("the assignment did not settle in 5 heartbeats; last answer %s", answer);
    }

    private void checkCheckpoints(List<Integer> held) throws LogException {
        expect(held != null && !held.isEmpty(), "no shard held (heartbeat check failed)");
        int owned = held.get(0);
        String ownedCursor = cursor(owned, CursorMode.END);
        // Non-forced: the holder commits (the consumer library's call).
        client.UpdateCheckPoint(project, logstore, group, "java-c1", owned, ownedCursor);
        // Forced (no consumer): another shard.
        int other = shards.stream().map(Shard::getShardId).filter(s -> s != owned).findFirst()
                .orElseThrow();
        String otherCursor = cursor(other, CursorMode.BEGIN);
        client.UpdateCheckPoint(project, logstore, group, other, otherCursor);

        Map<Integer, String> expected = new TreeMap<>();
        for (Shard s : shards) {
            expected.put(s.getShardId(), "");
        }
        expected.put(owned, ownedCursor);
        expected.put(other, otherCursor);
        Map<Integer, String> got = new TreeMap<>();
        for (ConsumerGroupShardCheckPoint cp : client.GetCheckPoint(project, logstore, group)
                .getCheckPoints()) {
            got.put(cp.getShard(), cp.getCheckPoint() == null ? "" : cp.getCheckPoint());
            if (cp.getShard() == owned) {
                expectEq(cp.getConsumer(), "java-c1", "consumer of shard " + owned);
                expect(cp.getUpdateTime() > 0, "updateTime of shard %d: %d", owned,
                        cp.getUpdateTime());
            }
        }
        expectEq(got, expected, "GetCheckPoint (every shard; '' = never checkpointed)");

        // One shard, both ways the SDK offers; the consumer library uses the list form and
        // needs an entry even for a shard that was never checkpointed.
        ConsumerGroupShardCheckPoint one = client.getCheckpoint(project, logstore, group, owned)
                .getCheckpoint();
        expect(one != null, "getCheckpoint(shard=%d) returned no entry", owned);
        expectEq(one.getShard(), owned, "shard of getCheckpoint(shard=" + owned + ")");
        expectEq(one.getCheckPoint(), ownedCursor, "checkpoint of shard " + owned);
        int never = expected.entrySet().stream().filter(e -> e.getValue().isEmpty())
                .map(Map.Entry::getKey).findFirst().orElseThrow();
        List<ConsumerGroupShardCheckPoint> list = client.GetCheckPoint(project, logstore, group,
                never).getCheckPoints();
        expectEq(list.size(), 1, "entries for never-checkpointed shard " + never);
        expectEq(list.get(0).getShard(), never, "shard of the entry");
        expectEq(list.get(0).getCheckPoint(), "", "checkpoint of never-checkpointed shard "
                + never);
    }

    // ---- signatures --------------------------------------------------------------------- //

    private void checkBadSecret() throws Exception {
        // With --expect-signature-error the configured secret is already wrong.
        Client bad = expectSignatureError ? client
                : makeClient(connection.accessKeySecret + "-wrong");
        try {
            expectLogError(() -> bad.ListProject("", 0, 10), "SignatureNotMatch", 401);
            expectLogError(() -> bad.GetProject(project), "SignatureNotMatch", 401);
            PutLogsRequest req = new PutLogsRequest(project, logstore, "t", "10.0.0.1",
                    items("bad-secret", 1, (int) tStart, List.of()));
            expectLogError(() -> bad.PutLogs(req), "SignatureNotMatch", 401);
        } finally {
            if (bad != client) {
                bad.shutdown();
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------ //

    private void cleanup() {
        if (!createdProject) {
            return;
        }
        try {
            client.DeleteProject(project); // removes its logstores too
        } catch (LogException ex) {
            System.out.println("  cleanup: " + Checks.describe(ex));
        }
    }

    private String randomName(int n) {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    /** The SDK version, from the pom.properties the shaded jar keeps. */
    static String sdkVersion() {
        Properties p = new Properties();
        try (InputStream in = Client.class.getResourceAsStream(
                "/META-INF/maven/com.aliyun.openservices/aliyun-log/pom.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ex) {
            // Only informative.
        }
        return p.getProperty("version", "(unknown version)");
    }

    private static String header(Map<String, String> headers, String name) {
        for (Map.Entry<String, String> e : headers.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return "";
    }

    /** A hung emulator (or SDK retries of 5xx) must not block the caller forever. */
    private void startDeadline() {
        if (deadlineSecs <= 0) {
            return;
        }
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(deadlineSecs * 1000L);
            } catch (InterruptedException ex) {
                return;
            }
            System.out.printf("FAIL deadline: the run took longer than %d s%n", deadlineSecs);
            System.out.printf("sls-java-sdk: %d passed, %d failed%n", checks.passedCount(),
                    checks.failedCount() + 1);
            System.out.flush();
            Runtime.getRuntime().halt(1);
        }, "deadline");
        t.setDaemon(true);
        t.start();
    }

    /** HOST:PORT of --proxy. */
    record HostPort(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }

        static final class Converter implements CommandLine.ITypeConverter<HostPort> {
            @Override
            public HostPort convert(String value) {
                int colon = value.lastIndexOf(':');
                if (colon <= 0) {
                    throw new CommandLine.TypeConversionException("expected HOST:PORT, got '"
                            + value + "'");
                }
                try {
                    int port = Integer.parseInt(value.substring(colon + 1));
                    if (port < 1 || port > 65535) {
                        throw new NumberFormatException();
                    }
                    return new HostPort(value.substring(0, colon), port);
                } catch (NumberFormatException ex) {
                    throw new CommandLine.TypeConversionException("bad port in '" + value + "'");
                }
            }
        }
    }
}
