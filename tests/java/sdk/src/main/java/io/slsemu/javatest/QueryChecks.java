package io.slsemu.javatest;

import static io.slsemu.javatest.Checks.expect;
import static io.slsemu.javatest.Checks.expectEq;
import static io.slsemu.javatest.Checks.expectLogError;
import static io.slsemu.javatest.Checks.fail;

import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.JSONObject;
import com.aliyun.openservices.log.Client;
import com.aliyun.openservices.log.common.Consts.CompressType;
import com.aliyun.openservices.log.common.Histogram;
import com.aliyun.openservices.log.common.Index;
import com.aliyun.openservices.log.common.IndexKey;
import com.aliyun.openservices.log.common.IndexKeys;
import com.aliyun.openservices.log.common.IndexLine;
import com.aliyun.openservices.log.common.LogContent;
import com.aliyun.openservices.log.common.LogItem;
import com.aliyun.openservices.log.common.LogStore;
import com.aliyun.openservices.log.common.QueriedLog;
import com.aliyun.openservices.log.common.QueryResult;
import com.aliyun.openservices.log.exception.LogException;
import com.aliyun.openservices.log.http.client.ClientConfiguration;
import com.aliyun.openservices.log.request.GetLogsRequest;
import com.aliyun.openservices.log.request.GetLogsRequestV2;
import com.aliyun.openservices.log.response.GetHistogramsResponse;
import com.aliyun.openservices.log.response.GetLogsResponse;
import io.slsemu.javatest.QueryData.QLog;
import io.slsemu.javatest.QueryData.Search;
import io.slsemu.javatest.common.Connection;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Indexes and queries through the official Java SDK (aliyun-log 0.6.151): CreateIndex,
 * GetIndex, UpdateIndex, DeleteIndex, GetLogs (and GetRawLogs, the deprecated GetLogsV2),
 * GetHistograms (which this SDK sends to {@code /logstores/{ls}/index?type=histogram}) and,
 * with {@code --sql}, analytic queries and GetProjectLogs. The data set is {@link QueryData};
 * every expected answer is computed from it.
 */
@Command(name = "sls-java-query", mixinStandardHelpOptions = true, sortOptions = false,
        resourceBundle = "sls-java-sdk",
        description = "Index and query checks of sls-emu through the official aliyun-log SDK.")
public final class QueryChecks implements Callable<Integer> {

    @Mixin
    Connection connection;

    @Option(names = "--proxy", converter = SdkCore.HostPort.Converter.class,
            description = "HOST:PORT of the emulator, used as the SDK's HTTP proxy.")
    SdkCore.HostPort proxy;

    @Option(names = "--project", description = "Project to create (default java-query-<random>).")
    String project;

    @Option(names = "--sql", description = "Also check SQL after '|' and GetProjectLogs.")
    boolean sql;

    @Option(names = "--deadline-secs", defaultValue = "300",
            description = "Give up (exit 1) after this many seconds (default ${DEFAULT-VALUE}).")
    int deadlineSecs;

    // Names SQL can use unquoted (GetProjectLogs names the logstore in FROM).
    private static final String LOGSTORE = "query_app";
    private static final String PLAIN = "query_plain";

    private final Checks checks = new Checks();
    private Client client;
    private boolean createdProject;
    private List<QLog> logs;
    private int from;
    private int to;

    public static void main(String[] args) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.exit(new CommandLine(new QueryChecks()).execute(args));
    }

    @Override
    public Integer call() {
        if (project == null) {
            SecureRandom random = new SecureRandom();
            project = "java-query-" + random.ints(10, 0, 36)
                    .mapToObj(i -> Character.toString("abcdefghijklmnopqrstuvwxyz0123456789"
                            .charAt(i)))
                    .collect(Collectors.joining());
        }
        startDeadline();
        from = (int) (System.currentTimeMillis() / 1000) - 600;
        to = from + QueryData.COUNT / 10;
        logs = QueryData.logs(from);
        System.out.printf("sls-java-query: aliyun-log %s, endpoint %s, %s, project %s, sql %b%n",
                SdkCore.sdkVersion(), connection.endpoint,
                proxy == null ? "no proxy" : "proxy " + proxy, project, sql);
        ClientConfiguration config = new ClientConfiguration();
        if (proxy != null) {
            config.setProxyHost(proxy.host());
            config.setProxyPort(proxy.port());
        }
        client = new Client(connection.endpoint, connection.accessKeyId,
                connection.accessKeySecret, config);
        try {
            runAll();
        } catch (Checks.Abort ex) {
            System.out.printf("ABORT after %s failed; the checks after it depend on it%n",
                    ex.getMessage());
        } finally {
            cleanup();
            client.shutdown();
        }
        System.out.printf("sls-java-query: %d passed, %d failed%n", checks.passedCount(),
                checks.failedCount());
        return checks.failedCount() > 0 ? 1 : 0;
    }

    private void runAll() {
        checks.fatal("create_project", () -> {
            client.CreateProject(project, "sls-java-query");
            createdProject = true;
        });
        checks.fatal("create_logstores", () -> {
            client.CreateLogStore(project, new LogStore(LOGSTORE, 1, 2));
            client.CreateLogStore(project, new LogStore(PLAIN, 1, 1));
        });
        checks.run("error_index_config_not_exist (GetLogs without an index)", () ->
                expectLogError(() -> client.GetLogs(project, PLAIN, from, to, "", "*"),
                        "IndexConfigNotExist", 400));
        checks.run("error_index_config_not_exist (GetHistograms without an index)", () ->
                expectLogError(() -> client.GetHistograms(project, PLAIN, from, to, "", "*"),
                        "IndexConfigNotExist", 400));
        checks.run("error_index_config_not_exist (GetIndex without an index)", () ->
                expectLogError(() -> client.GetIndex(project, PLAIN), "IndexConfigNotExist", 0));
        checks.run("error_index_info_invalid (a token of two characters)", () -> {
            Index bad = new Index(1, new IndexKeys(), new IndexLine(List.of("ab"), false));
            expectLogError(() -> client.CreateIndex(project, PLAIN, bad), "IndexInfoInvalid", 400);
        });
        checks.run("create_index_string (GetIndexString, DeleteIndex)", this::checkIndexString);
        checks.fatal("create_index", () -> client.CreateIndex(project, LOGSTORE, index()));
        checks.run("get_index", this::checkGetIndex);
        checks.run("error_index_already_exist", () -> expectLogError(
                () -> client.CreateIndex(project, LOGSTORE, index()), "IndexAlreadyExist", 400));
        checks.fatal("put_logs (10 groups over 2 shards)", this::putLogs);

        checks.run("get_logs_rows (lz4, Complete, __time__/__source__/__topic__, contents)",
                () -> checkRows(CompressType.LZ4));
        checks.run("get_logs_rows (no Accept-Encoding)", () -> checkRows(CompressType.NONE));
        checks.run("get_logs_paging (offset 0/100/200, line 100)", this::checkPaging);
        checks.run("get_logs_reverse", this::checkReverse);
        checks.run("get_logs_time_range (5 of 25 seconds: 50 logs)",
                () -> expectSearch("", "*", from + 5, from + 10, l -> true));
        for (Search s : QueryData.SEARCHES) {
            int want = QueryData.matching(logs, from, to, "", s.match()).size();
            checks.run(String.format("search \"%s\" (%d logs)", s.query(), want),
                    () -> expectSearch("", s.query(), from, to, s.match()));
        }
        Predicate<QLog> isGet = l -> l.method().equals("GET");
        checks.run("topic parameter \"web\" with \"*\"",
                () -> expectSearch("web", "*", from, to, l -> true));
        checks.run("topic parameter \"batch\" with \"method: GET\"",
                () -> expectSearch("batch", "method: GET", from, to, isGet));
        checks.run("get_raw_logs (meta and data)", this::checkRawLogs);
        checks.run("get_logs_v2 (deprecated GetLogsRequestV2)", this::checkGetLogsV2);
        checks.run("get_histograms (/index?type=histogram; sums to the GetLogs count)",
                () -> checkHistograms("", "method: GET", isGet));
        checks.run("get_histograms (topic web, status >= 404)",
                () -> checkHistograms("web", "status >= 404", l -> l.status() >= 404));
        checks.run("error_search_key_without_index (nokey: x)", () -> {
            try {
                client.GetLogs(project, LOGSTORE, from, to, "", "nokey: x");
            } catch (LogException ex) {
                expect(ex.GetErrorMessage().contains("nokey"), "%s does not name the key",
                        Checks.describe(ex));
                return;
            }
            fail("the search succeeded; expected an error naming nokey");
        });
        if (sql) {
            runSql();
        }
        checks.run("update_index (adds a key)", () -> {
            Index idx = index();
            idx.GetKeys().AddKey("msg", new IndexKey(QueryData.TOKENS, false, "text"));
            client.UpdateIndex(project, LOGSTORE, idx);
            Map<String, IndexKey> keys = client.GetIndex(project, LOGSTORE).GetIndex().GetKeys()
                    .GetKeys();
            expectEq(keys.keySet(), Set.of("id", "method", "status", "latency", "msg"),
                    "keys after UpdateIndex");
        });
        checks.run("delete_index then GetIndex: IndexConfigNotExist", () -> {
            client.DeleteIndex(project, LOGSTORE);
            expectLogError(() -> client.GetIndex(project, LOGSTORE), "IndexConfigNotExist", 0);
        });
        checks.run("delete_index then GetLogs: IndexConfigNotExist", () -> expectLogError(
                () -> client.GetLogs(project, LOGSTORE, from, to, "", "*"),
                "IndexConfigNotExist", 400));
    }

    private void cleanup() {
        if (!createdProject) {
            return;
        }
        try {
            for (String ls : List.of(LOGSTORE, PLAIN)) {
                client.DeleteLogStore(project, ls);
            }
            client.DeleteProject(project);
        } catch (LogException ex) {
            System.out.println("  cleanup: " + Checks.describe(ex));
        }
    }

    // ---- index ------------------------------------------------------------------------- //

    /** The line index plus text, long and double keys. */
    private static Index index() {
        IndexKeys keys = new IndexKeys();
        for (String name : List.of("id", "method")) {
            IndexKey text = new IndexKey(QueryData.TOKENS, false, "text");
            text.SetDocValue(true);
            keys.AddKey(name, text);
        }
        IndexKey status = new IndexKey(List.of(), false, "long");
        status.SetDocValue(true);
        keys.AddKey("status", status);
        IndexKey latency = new IndexKey(List.of(), false, "double");
        latency.SetDocValue(true);
        keys.AddKey("latency", latency);
        return new Index(1, keys, new IndexLine(QueryData.TOKENS, false));
    }

    private void checkGetIndex() throws LogException {
        Index got = client.GetIndex(project, LOGSTORE).GetIndex();
        expect(got.isLineSet(), "no line index in GetIndex");
        expectEq(got.GetLine().GetToken(), QueryData.TOKENS, "line token");
        expectEq(got.GetLine().GetCaseSensitive(), false, "line caseSensitive");
        Map<String, IndexKey> keys = got.GetKeys().GetKeys();
        Map<String, String> types = new HashMap<>();
        keys.forEach((k, v) -> types.put(k, v.GetType()));
        expectEq(types, Map.of("id", "text", "method", "text", "status", "long", "latency",
                "double"), "key types");
        expectEq(keys.get("method").GetToken(), QueryData.TOKENS, "method token");
        expect(keys.get("status").IsDocValue(), "status: doc_value false");
    }

    /** CreateIndex from a JSON string, read back as one, then removed. */
    private void checkIndexString() throws LogException {
        String json = "{\"keys\":{\"n\":{\"type\":\"long\",\"doc_value\":true}},\"ttl\":1}";
        client.CreateIndex(project, PLAIN, json);
        JSONObject got = JSON.parseObject(client.GetIndexString(project, PLAIN).GetIndex());
        expectEq(got.getJSONObject("keys").getJSONObject("n").getString("type"), "long",
                "keys.n.type");
        client.DeleteIndex(project, PLAIN);
        expectLogError(() -> client.GetIndex(project, PLAIN), "IndexConfigNotExist", 0);
    }

    private void putLogs() throws LogException {
        // Hash keys at both ends of the key space: both shards hold data.
        String[] hashKeys = {"00000000000000000000000000000000",
                "80000000000000000000000000000000"};
        int n = 0;
        for (String topic : List.of("web", "batch")) {
            List<QLog> ofTopic = logs.stream().filter(l -> l.topic().equals(topic)).toList();
            for (int i = 0; i < ofTopic.size(); i += 25) {
                List<QLog> chunk = ofTopic.subList(i, Math.min(i + 25, ofTopic.size()));
                List<LogItem> items = chunk.stream().map(QLog::item).toList();
                client.PutLogs(project, LOGSTORE, topic, new ArrayList<>(items),
                        chunk.get(0).source(), hashKeys[n++ % 2]);
            }
        }
    }

    // ---- GetLogs ----------------------------------------------------------------------- //

    private GetLogsResponse getLogs(String topic, String query, int f, int t, long offset,
            long line, boolean reverse, CompressType compress) throws LogException {
        GetLogsRequest req = new GetLogsRequest(project, LOGSTORE, f, t, topic, query, offset,
                line, reverse);
        req.setCompressType(compress);
        return client.GetLogs(req);
    }

    /** Pages through a search 100 rows at a time. */
    private List<QueriedLog> fetchAll(String topic, String query, int f, int t)
            throws LogException {
        List<QueriedLog> rows = new ArrayList<>();
        for (long offset = 0; ; offset += QueryData.PAGE) {
            GetLogsResponse r = getLogs(topic, query, f, t, offset, QueryData.PAGE, false,
                    CompressType.LZ4);
            expect(r.IsCompleted(), "not Complete at offset %d", offset);
            rows.addAll(r.GetLogs());
            if (r.GetLogs().size() < QueryData.PAGE) {
                return rows;
            }
            expect(offset < 10 * QueryData.COUNT, "more rows than were written: offset ignored");
        }
    }

    private void expectSearch(String topic, String query, int f, int t, Predicate<QLog> match)
            throws LogException {
        List<QueriedLog> rows = fetchAll(topic, query, f, t);
        List<QLog> expected = QueryData.matching(logs, f, t, topic, match);
        expect(rows.size() == expected.size(), "%d rows, expected %d", rows.size(),
                expected.size());
        sameLogs(rows, expected);
    }

    /** The rows are exactly logs of expected (by id), each once, each as written. */
    private static void sameLogs(List<QueriedLog> rows, List<QLog> expected) {
        Map<String, QLog> byId = new HashMap<>();
        expected.forEach(l -> byId.put(l.id(), l));
        Set<String> seen = new HashSet<>();
        for (QueriedLog row : rows) {
            Map<String, String> got = contents(row);
            QLog l = byId.get(got.get("id"));
            expect(l != null, "row %s was not expected", got);
            expect(seen.add(l.id()), "row %s returned twice", l.id());
            expectEq(row.GetLogItem().GetTime(), l.time(), l.id() + " __time__");
            expectEq(row.GetSource(), l.source(), l.id() + " __source__");
            Map<String, String> want = new HashMap<>(l.contents());
            want.put("__topic__", l.topic());
            for (Map.Entry<String, String> e : want.entrySet()) {
                expectEq(got.get(e.getKey()), e.getValue(), l.id() + " " + e.getKey());
            }
        }
    }

    private static Map<String, String> contents(QueriedLog row) {
        Map<String, String> m = new HashMap<>();
        for (LogContent c : row.GetLogItem().GetLogContents()) {
            m.put(c.GetKey(), c.GetValue());
        }
        return m;
    }

    private static List<Integer> times(List<QueriedLog> rows) {
        return rows.stream().map(r -> r.GetLogItem().GetTime()).toList();
    }

    private void checkRows(CompressType compress) throws LogException {
        GetLogsResponse r = getLogs("", "*", from, to, 0, QueryData.PAGE, false, compress);
        expect(r.IsCompleted(), "not Complete");
        expectEq(r.GetCount(), QueryData.PAGE, "count");
        expect(!r.isHasSQL(), "hasSQL true for a search");
        sameLogs(r.GetLogs(), logs);
    }

    private void checkPaging() throws LogException {
        List<QueriedLog> all = new ArrayList<>();
        for (long[] page : new long[][] {{0, 100}, {100, 100}, {200, 50}, {250, 0}}) {
            GetLogsResponse r = getLogs("", "*", from, to, page[0], QueryData.PAGE, false,
                    CompressType.LZ4);
            expectEq((long) r.GetLogs().size(), page[1], "rows at offset " + page[0]);
            all.addAll(r.GetLogs());
        }
        List<Integer> t = times(all);
        expectEq(t, t.stream().sorted().toList(), "__time__ in order over the pages");
        sameLogs(all, logs);
    }

    private void checkReverse() throws LogException {
        GetLogsResponse r = getLogs("", "*", from, to, 0, 30, true, CompressType.LZ4);
        List<Integer> t = times(r.GetLogs());
        expectEq(t, t.stream().sorted((a, b) -> b - a).toList(), "__time__ newest first");
        expectEq(r.GetLogs().size(), 30, "rows");
        sameLogs(r.GetLogs(), logs.subList(QueryData.COUNT - 30, QueryData.COUNT));
    }

    private void checkRawLogs() throws LogException {
        GetLogsRequest req = new GetLogsRequest(project, LOGSTORE, from, to, "", "status: 500",
                0, 100, false);
        String raw = client.GetRawLogs(req).getRawQueryResult();
        JSONObject body = JSON.parseObject(raw);
        int want = QueryData.matching(logs, from, to, "", l -> l.status() == 500).size();
        expectEq(body.getJSONObject("meta").getString("progress"), "Complete", "meta.progress");
        expectEq(body.getJSONObject("meta").getIntValue("count"), want, "meta.count");
        expectEq(body.getJSONArray("data").size(), want, "rows in data");
        for (Object row : body.getJSONArray("data")) {
            for (Object v : ((JSONObject) row).values()) {
                expect(v instanceof String, "row value %s is not a JSON string: %s", v, row);
            }
        }
    }

    @SuppressWarnings("deprecation")
    private void checkGetLogsV2() throws LogException {
        QueryResult r = client.GetLogsV2(new GetLogsRequestV2(project, LOGSTORE, from, to, "",
                "method: DELETE", 0, 100, false)).getResult();
        List<QLog> want = QueryData.matching(logs, from, to, "",
                l -> l.method().equals("DELETE"));
        expect(r.isCompleted(), "not Complete");
        expectEq(r.getLogs().size(), want.size(), "rows");
        sameLogs(r.getLogs(), want);
    }

    // ---- GetHistograms ----------------------------------------------------------------- //

    private void checkHistograms(String topic, String query, Predicate<QLog> match)
            throws LogException {
        GetHistogramsResponse r = client.GetHistograms(project, LOGSTORE, from, to, topic, query);
        expect(r.IsCompleted(), "not Complete");
        List<Histogram> hs = r.GetHistograms();
        expect(!hs.isEmpty() && hs.size() <= 60, "%d buckets, expected 1 to 60", hs.size());
        expectEq(hs.get(0).GetFrom(), from, "first bucket from");
        expectEq(hs.get(hs.size() - 1).GetTo(), to, "last bucket to");
        long sum = 0;
        for (int i = 0; i < hs.size(); i++) {
            Histogram h = hs.get(i);
            if (i > 0) {
                expectEq(h.GetFrom(), hs.get(i - 1).GetTo(), "bucket " + i + " from");
            }
            expect(h.IsCompleted(), "bucket %d not Complete", i);
            long want = QueryData.matching(logs, h.GetFrom(), h.GetTo(), topic, match).size();
            expectEq(h.GetCount(), want, "bucket [" + h.GetFrom() + ", " + h.GetTo() + ") count");
            sum += h.GetCount();
        }
        expectEq(sum, (long) fetchAll(topic, query, from, to).size(),
                "buckets add up to the GetLogs count");
        expectEq(r.GetTotalCount(), sum, "x-log-count");
    }

    // ---- SQL (--sql) ------------------------------------------------------------------- //

    private void runSql() {
        Map<String, String> byMethod = new HashMap<>();
        logs.stream().collect(Collectors.groupingBy(QLog::method, Collectors.counting()))
                .forEach((method, n) -> byMethod.put(method, Long.toString(n)));
        checks.run("sql group by method order by count desc", () -> {
            List<Map<String, String>> rows =
                    sqlRows("* | select method, count(*) as c group by method order by c desc");
            Map<String, String> got = new HashMap<>();
            for (int i = 0; i < rows.size(); i++) {
                got.put(rows.get(i).get("method"), rows.get(i).get("c"));
                if (i > 0) {
                    expect(Integer.parseInt(rows.get(i).get("c"))
                            <= Integer.parseInt(rows.get(i - 1).get("c")),
                            "not ordered by c desc: %s", rows);
                }
            }
            expectEq(got, byMethod, "counts by method");
        });
        String n500 = Long.toString(logs.stream().filter(l -> l.status() >= 500).count());
        for (String[] tc : new String[][] {
                {"* | select count(1) as n", "n", Integer.toString(QueryData.COUNT)},
                {"status >= 500 | select count(*) as n", "n", n500},
                {"* | select max(status) as m", "m", "500"}}) {
            checks.run("sql \"" + tc[0] + "\" = " + tc[2], () -> {
                List<Map<String, String>> rows = sqlRows(tc[0]);
                expectEq(rows.size(), 1, "rows");
                expectEq(rows.get(0).get(tc[1]), tc[2], tc[1]);
            });
        }
        checks.run("sql \"* | select id order by id limit 2, 3\"", () -> expectEq(
                sqlRows("* | select id order by id limit 2, 3").stream()
                        .map(r -> r.get("id")).toList(),
                List.of("q-002", "q-003", "q-004"), "ids"));
        checks.run("get_project_logs (select count(1) from " + LOGSTORE + ")", () -> {
            String q = String.format("select count(1) as n from %s where __time__ >= %d and "
                    + "__time__ < %d", LOGSTORE, from, to);
            GetLogsResponse r = client.GetProjectLogs(project, q);
            expect(r.IsCompleted(), "not Complete");
            expectEq(r.GetLogs().size(), 1, "rows");
            expectEq(contents(r.GetLogs().get(0)).get("n"), Integer.toString(QueryData.COUNT),
                    "n");
        });
    }

    private List<Map<String, String>> sqlRows(String query) throws LogException {
        GetLogsResponse r = client.GetLogs(project, LOGSTORE, from, to, "", query);
        expect(r.IsCompleted(), "not Complete");
        expect(r.isHasSQL(), "hasSQL false for %s", query);
        return r.GetLogs().stream().map(QueryChecks::contents).toList();
    }

    /** A hung emulator must not block the caller forever. */
    private void startDeadline() {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(deadlineSecs * 1000L);
            } catch (InterruptedException ex) {
                return;
            }
            System.out.printf("FAIL deadline: the run took longer than %d s%n", deadlineSecs);
            System.out.flush();
            Runtime.getRuntime().halt(1);
        }, "deadline");
        t.setDaemon(true);
        t.start();
    }
}
