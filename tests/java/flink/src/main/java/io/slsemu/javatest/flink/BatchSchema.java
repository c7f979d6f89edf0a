package io.slsemu.javatest.flink;

import com.aliyun.openservices.log.common.FastLog;
import com.aliyun.openservices.log.common.FastLogContent;
import com.aliyun.openservices.log.common.FastLogGroup;
import com.aliyun.openservices.log.common.LogGroupData;
import com.aliyun.openservices.log.flink.data.RawLog;
import com.aliyun.openservices.log.flink.data.RawLogGroup;
import com.aliyun.openservices.log.flink.model.LogDeserializationSchema;
import com.aliyun.openservices.log.flink.model.LogSerializationSchema;
import com.aliyun.openservices.log.flink.model.PullLogsResult;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/** Source logs to {@link Batch}es and back: the connector's (de)serialisation hooks. */
final class BatchSchema implements LogDeserializationSchema<Batch>, LogSerializationSchema<Batch> {
    private static final long serialVersionUID = 1L;

    /** The content key that carries each log's harness id. */
    static final String ID_KEY = "id";

    @Override
    public Batch deserialize(PullLogsResult result) {
        Batch batch = new Batch(result.getShard(), result.getCursor());
        for (LogGroupData data : result.getLogGroupList()) {
            FastLogGroup group = data.GetFastLogGroup();
            batch.groupSizes.add(group.getLogsCount());
            for (int i = 0; i < group.getLogsCount(); i++) {
                FastLog log = group.getLogs(i);
                batch.ids.add(idOf(log));
                batch.times.add(log.getTime());
            }
        }
        return batch;
    }

    private static String idOf(FastLog log) {
        for (int i = 0; i < log.getContentsCount(); i++) {
            FastLogContent c = log.getContents(i);
            if (ID_KEY.equals(c.getKey())) {
                return c.getValue();
            }
        }
        return "";
    }

    @Override
    public RawLogGroup serialize(Batch batch) {
        RawLogGroup group = new RawLogGroup();
        for (int i = 0; i < batch.size(); i++) {
            RawLog log = new RawLog();
            log.setTime(batch.times.get(i));
            log.addContent(ID_KEY, batch.ids.get(i));
            log.addContent("src_shard", Integer.toString(batch.shard));
            group.addLog(log);
        }
        return group;
    }

    @Override
    public TypeInformation<Batch> getProducedType() {
        return TypeInformation.of(Batch.class);
    }
}
