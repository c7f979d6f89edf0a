package io.slsemu.javatest.flink;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.api.common.typeutils.base.VoidSerializer;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.functions.sink.TwoPhaseCommitSinkFunction;

/**
 * Exactly-once into PostgreSQL by two-phase commit: one database transaction per checkpoint
 * interval, {@code PREPARE TRANSACTION} when the checkpoint barrier reaches the sink, {@code
 * COMMIT PREPARED} once the checkpoint is complete. The Flink transaction handle is the
 * prepared transaction's global id; prepared transactions outlive the connection, the JVM and
 * a database restart. One row per source log, with no unique key, so a duplicate stays
 * visible.
 */
final class PostgresSink extends TwoPhaseCommitSinkFunction<Batch, String, Void> {
    private static final long serialVersionUID = 1L;
    /** PostgreSQL's "undefined_object": no prepared transaction of that id. */
    private static final String NO_SUCH_PREPARED = "42704";

    private final String url;
    private final String table;
    private final String tag;
    private final long haltAtCheckpoint;
    private final long commitDelayMs;

    /** The open (not yet prepared) transactions of this subtask, by id. */
    private transient Map<String, Connection> openTxns;
    private transient long checkpoint;

    /**
     * @param tag prefix of every transaction id: the same across restarts of one logical job
     * @param haltAtCheckpoint if positive, the JVM halts while preparing for that checkpoint
     *     (after the source's snapshot, before the checkpoint completes)
     * @param commitDelayMs a pause before each {@code COMMIT PREPARED}: widens the window
     *     between pre-commit and commit, so that tests can land a database restart in it
     */
    PostgresSink(String url, String table, String tag, long haltAtCheckpoint,
            long commitDelayMs) {
        super(StringSerializer.INSTANCE, VoidSerializer.INSTANCE);
        this.url = url;
        this.table = table;
        this.tag = tag;
        this.haltAtCheckpoint = haltAtCheckpoint;
        this.commitDelayMs = commitDelayMs;
    }

    static void createTable(String url, String table) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            // seq: the order rows were written in, which per source shard is the read order.
            s.execute("CREATE TABLE IF NOT EXISTS " + table + " (seq bigserial, id text NOT NULL,"
                    + " src_shard int NOT NULL, xid text NOT NULL)");
        }
    }

    private String prefix() {
        return tag + "-" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() + "-";
    }

    private Map<String, Connection> openTxns() {
        if (openTxns == null) {
            openTxns = new HashMap<>();
        }
        return openTxns;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        super.initializeState(context); // commits what the restored state says was pre-committed
        // Transactions prepared for checkpoints that never completed and that the restored state
        // does not name (a newer attempt's): their rows will be replayed, so they must go.
        for (String gid : prepared()) {
            if (!gid.startsWith(prefix()) || openTxns().containsKey(gid)) {
                continue;
            }
            execute("ROLLBACK PREPARED '" + gid + "'");
            Events.emit(Events.event("orphan_rolled_back").put("xid", gid));
        }
    }

    private List<String> prepared() throws SQLException {
        List<String> gids = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url);
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT gid FROM pg_prepared_xacts")) {
            while (r.next()) {
                gids.add(r.getString(1));
            }
        }
        return gids;
    }

    private void execute(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Override
    protected String beginTransaction() throws Exception {
        String xid = prefix() + UUID.randomUUID();
        Connection c = DriverManager.getConnection(url);
        c.setAutoCommit(false);
        openTxns().put(xid, c);
        return xid;
    }

    @Override
    protected void invoke(String xid, Batch batch, Context context) throws Exception {
        Connection c = openTxns().get(xid);
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO " + table + " (id, src_shard, xid) VALUES (?, ?, ?)")) {
            for (String id : batch.ids) {
                insert.setString(1, id);
                insert.setInt(2, batch.shard);
                insert.setString(3, xid);
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        checkpoint = context.getCheckpointId();
        if (checkpoint == haltAtCheckpoint) {
            // Flink sends the barrier on before the source snapshots: give the source's
            // snapshot (and its consumer-group commit) time to happen, as a slow pre-commit
            // would, then die.
            Thread.sleep(1000);
            Events.emit(Events.event("halt").put("checkpoint", checkpoint));
            Runtime.getRuntime().halt(9);
        }
        super.snapshotState(context); // calls preCommit
    }

    @Override
    protected void preCommit(String xid) throws Exception {
        Connection c = openTxns().remove(xid);
        try (c; Statement s = c.createStatement()) {
            s.execute("PREPARE TRANSACTION '" + xid + "'");
        }
        Events.emit(Events.event("prepared").put("xid", xid).put("checkpoint", checkpoint));
    }

    @Override
    protected void commit(String xid) {
        try {
            if (commitDelayMs > 0) {
                Thread.sleep(commitDelayMs);
            }
            execute("COMMIT PREPARED '" + xid + "'");
            Events.emit(Events.event("committed").put("xid", xid));
        } catch (SQLException ex) {
            if (NO_SUCH_PREPARED.equals(ex.getSQLState())) {
                // Committed before a crash that came ahead of the checkpoint's confirmation.
                Events.emit(Events.event("commit_already_done").put("xid", xid));
                return;
            }
            Events.emit(Events.event("commit_failed").put("xid", xid).put("error", ex.toString()));
            throw new IllegalStateException("COMMIT PREPARED " + xid + " failed", ex);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted before COMMIT PREPARED " + xid, ex);
        }
    }

    @Override
    protected void abort(String xid) {
        Connection c = openTxns().remove(xid);
        if (c == null) {
            recoverAndAbort(xid);
            return;
        }
        try (c) {
            c.rollback();
        } catch (SQLException ex) {
            // A broken connection rolls back by itself.
        }
        Events.emit(Events.event("aborted").put("xid", xid));
    }

    @Override
    protected void recoverAndAbort(String xid) {
        try {
            execute("ROLLBACK PREPARED '" + xid + "'");
            Events.emit(Events.event("aborted").put("xid", xid).put("prepared", true));
        } catch (SQLException ex) {
            if (!NO_SUCH_PREPARED.equals(ex.getSQLState())) {
                throw new IllegalStateException("ROLLBACK PREPARED " + xid + " failed", ex);
            }
        }
    }

    @Override
    public void close() throws Exception {
        for (Connection c : openTxns().values()) {
            try {
                c.close();
            } catch (SQLException ex) {
                // Closing rolls back; nothing else to do.
            }
        }
        openTxns().clear();
        super.close();
    }
}
