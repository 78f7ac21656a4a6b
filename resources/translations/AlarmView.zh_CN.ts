<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>AlarmView</name>
    <message>
      <source>%1 acknowledged.</source>
      <translation>已确认 %1 条。</translation>
    </message>
    <message>
      <source>%1 events</source>
      <translation>%1 条事件</translation>
    </message>
    <message>
      <source>%1 min</source>
      <translation>%1 分钟</translation>
    </message>
    <message>
      <source>%1 of %2 alarms shown</source>
      <translation>显示 %1 / 共 %2 条报警</translation>
    </message>
    <message>
      <source>%1 rows written to %2</source>
      <translation>已写入 %1 行到 %2</translation>
    </message>
    <message>
      <source>%1 shelved.</source>
      <translation>%1 已搁置。</translation>
    </message>
    <message>
      <source>Acknowledge all shown</source>
      <translation>确认所显示的全部</translation>
    </message>
    <message>
      <source>Acknowledge selected</source>
      <translation>确认所选</translation>
    </message>
    <message>
      <source>Acknowledged</source>
      <translation>已确认</translation>
    </message>
    <message>
      <source>Active alarms</source>
      <translation>活动报警</translation>
    </message>
    <message>
      <source>Alarm flood in %1: consequential alarms are grouped under their cause; deal with the most urgent first.</source>
      <translation>%1 报警泛滥：连带报警已归入其起因之下；请先处理最紧急的报警。</translation>
    </message>
    <message>
      <source>Alarm id</source>
      <translation>报警标识</translation>
    </message>
    <message>
      <source>All areas</source>
      <translation>全部区域</translation>
    </message>
    <message>
      <source>All events</source>
      <translation>全部事件</translation>
    </message>
    <message>
      <source>All states</source>
      <translation>全部状态</translation>
    </message>
    <message>
      <source>Annunciated</source>
      <translation>报警中</translation>
    </message>
    <message>
      <source>Any time</source>
      <translation>不限时间</translation>
    </message>
    <message>
      <source>Area</source>
      <translation>区域</translation>
    </message>
    <message>
      <source>CSV files (*.csv)</source>
      <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
      <source>Cause</source>
      <translation>起因</translation>
    </message>
    <message>
      <source>Clear filters</source>
      <translation>清除筛选</translation>
    </message>
    <message>
      <source>Cleared</source>
      <translation>已恢复</translation>
    </message>
    <message>
      <source>Event</source>
      <translation>事件</translation>
    </message>
    <message>
      <source>Event history</source>
      <translation>历史事件</translation>
    </message>
    <message>
      <source>Event history is not available: the historian has no event read yet.</source>
      <translation>历史事件不可用：历史库尚未提供事件读取。</translation>
    </message>
    <message>
      <source>Export CSV…</source>
      <translation>导出 CSV…</translation>
    </message>
    <message>
      <source>Export alarms</source>
      <translation>导出报警</translation>
    </message>
    <message>
      <source>Export events</source>
      <translation>导出事件</translation>
    </message>
    <message>
      <source>Export failed: %1</source>
      <translation>导出失败：%1</translation>
    </message>
    <message>
      <source>Flood began</source>
      <translation>报警泛滥开始</translation>
    </message>
    <message>
      <source>Flood ended</source>
      <translation>报警泛滥结束</translation>
    </message>
    <message>
      <source>Floods</source>
      <translation>报警泛滥</translation>
    </message>
    <message>
      <source>From</source>
      <translation>从</translation>
    </message>
    <message>
      <source>Hide the selected alarm for a limited time, with a reason</source>
      <translation>在限定时间内隐藏所选报警（须填写原因）</translation>
    </message>
    <message>
      <source>Horn</source>
      <translation>声响</translation>
    </message>
    <message>
      <source>Id, source or message</source>
      <translation>标识、来源或内容</translation>
    </message>
    <message>
      <source>Last 24 hours</source>
      <translation>最近24小时</translation>
    </message>
    <message>
      <source>Last 7 days</source>
      <translation>最近7天</translation>
    </message>
    <message>
      <source>Last 8 hours</source>
      <translation>最近8小时</translation>
    </message>
    <message>
      <source>Last hour</source>
      <translation>最近1小时</translation>
    </message>
    <message>
      <source>Limit</source>
      <translation>限值</translation>
    </message>
    <message>
      <source>Message</source>
      <translation>内容</translation>
    </message>
    <message>
      <source>Normal</source>
      <translation>正常</translation>
    </message>
    <message>
      <source>Not shelved: %1</source>
      <translation>未搁置：%1</translation>
    </message>
    <message>
      <source>Not unshelved: %1</source>
      <translation>未取消搁置：%1</translation>
    </message>
    <message>
      <source>Note</source>
      <translation>备注</translation>
    </message>
    <message>
      <source>Nothing to acknowledge.</source>
      <translation>没有需要确认的报警。</translation>
    </message>
    <message>
      <source>Out of service</source>
      <translation>退出服务</translation>
    </message>
    <message>
      <source>Priority</source>
      <translation>级别</translation>
    </message>
    <message>
      <source>Raised</source>
      <translation>发生</translation>
    </message>
    <message>
      <source>Reading events…</source>
      <translation>正在读取事件…</translation>
    </message>
    <message>
      <source>Reason</source>
      <translation>原因</translation>
    </message>
    <message>
      <source>Reason (required)</source>
      <translation>原因（必填）</translation>
    </message>
    <message>
      <source>Refused: user %1 may not acknowledge %2.</source>
      <translation>已拒绝：用户 %1 无权确认 %2。</translation>
    </message>
    <message>
      <source>Returned to service</source>
      <translation>恢复服务</translation>
    </message>
    <message>
      <source>Returned, unacknowledged</source>
      <translation>已恢复未确认</translation>
    </message>
    <message>
      <source>Search</source>
      <translation>查询</translation>
    </message>
    <message>
      <source>Select one alarm to shelve.</source>
      <translation>请选择一条要搁置的报警。</translation>
    </message>
    <message>
      <source>Select the alarms to acknowledge first.</source>
      <translation>请先选择要确认的报警。</translation>
    </message>
    <message>
      <source>Shelve %1 for</source>
      <translation>搁置 %1，时长</translation>
    </message>
    <message>
      <source>Shelve alarm</source>
      <translation>搁置报警</translation>
    </message>
    <message>
      <source>Shelved</source>
      <translation>已搁置</translation>
    </message>
    <message>
      <source>Shelve…</source>
      <translation>搁置…</translation>
    </message>
    <message>
      <source>Shelving</source>
      <translation>搁置</translation>
    </message>
    <message>
      <source>Shelving expired</source>
      <translation>搁置到期</translation>
    </message>
    <message>
      <source>Show priority %1</source>
      <translation>显示%1级报警</translation>
    </message>
    <message>
      <source>Silence</source>
      <translation>消音</translation>
    </message>
    <message>
      <source>Sound for priority %1</source>
      <translation>%1级报警响铃</translation>
    </message>
    <message>
      <source>Source</source>
      <translation>来源</translation>
    </message>
    <message>
      <source>State</source>
      <translation>状态</translation>
    </message>
    <message>
      <source>Suppressed</source>
      <translation>已抑制</translation>
    </message>
    <message>
      <source>Suppression and service</source>
      <translation>抑制与退出服务</translation>
    </message>
    <message>
      <source>Suppression ended</source>
      <translation>抑制结束</translation>
    </message>
    <message>
      <source>Text</source>
      <translation>文字</translation>
    </message>
    <message>
      <source>The end of the range must be after its start.</source>
      <translation>结束时间必须晚于开始时间。</translation>
    </message>
    <message>
      <source>The event history could not be read: %1</source>
      <translation>无法读取历史事件：%1</translation>
    </message>
    <message>
      <source>The first %1 events are shown; narrow the filters to see the rest.</source>
      <translation>仅显示前 %1 条事件；请缩小筛选范围查看其余事件。</translation>
    </message>
    <message>
      <source>Time</source>
      <translation>时间</translation>
    </message>
    <message>
      <source>To</source>
      <translation>到</translation>
    </message>
    <message>
      <source>Unacknowledged</source>
      <translation>未确认</translation>
    </message>
    <message>
      <source>Unshelve</source>
      <translation>取消搁置</translation>
    </message>
    <message>
      <source>Unshelved</source>
      <translation>已取消搁置</translation>
    </message>
    <message>
      <source>User</source>
      <translation>用户</translation>
    </message>
    <message>
      <source>Value</source>
      <translation>数值</translation>
    </message>
    <message>
      <source>Workstation</source>
      <translation>工作站</translation>
    </message>
    <message>
      <source>acknowledged by %1</source>
      <translation>%1 已确认</translation>
    </message>
    <message>
      <source>shelved by %1 until %2</source>
      <translation>%1 搁置至 %2</translation>
    </message>
    <message>
      <source>%1 – %2: %3 alarms annunciated, %4 raises in all; %5 chattering, %6 stale; the 10 most frequent alarms make %7 % of the raises.</source>
      <translation>%1 – %2：报警提示 %3 条，触发共 %4 次；振荡报警 %5 个，长期报警 %6 个；最频繁的 10 个报警占触发次数的 %7 %。</translation>
    </message>
    <message>
      <source>Above target, manageable</source>
      <translation>超出目标，尚可处理</translation>
    </message>
    <message>
      <source>Active for (h)</source>
      <translation>持续时间（小时）</translation>
    </message>
    <message>
      <source>Alarm</source>
      <translation>报警</translation>
    </message>
    <message>
      <source>Alarm health</source>
      <translation>报警系统健康</translation>
    </message>
    <message>
      <source>Alarm health is not available: there is no journal to read.</source>
      <translation>无法统计报警系统健康：没有可读取的事件日志。</translation>
    </message>
    <message>
      <source>Alarm load per area</source>
      <translation>各区域报警负荷</translation>
    </message>
    <message>
      <source>Alarms</source>
      <translation>报警数</translation>
    </message>
    <message>
      <source>Busiest day</source>
      <translation>单日最多</translation>
    </message>
    <message>
      <source>Chattering alarms (3 or more raises within 60 s)</source>
      <translation>振荡报警（60 秒内触发 3 次及以上）</translation>
    </message>
    <message>
      <source>Choose a period and press Compute.</source>
      <translation>选择时段后点击“统计”。</translation>
    </message>
    <message>
      <source>Compute</source>
      <translation>统计</translation>
    </message>
    <message>
      <source>Computed from the journal at %1.</source>
      <translation>已于 %1 根据事件日志统计。</translation>
    </message>
    <message>
      <source>Flood time %</source>
      <translation>报警泛滥时间 %</translation>
    </message>
    <message>
      <source>ISA-18.2 targets per operator area: %1 alarms a day acceptable, %2 at most; %3 per 10 minutes acceptable, %4 at most; never more than %5 in 10 minutes; flood time under %6 %; no chattering alarm; fewer than %7 stale alarms.</source>
      <translation>ISA-18.2 目标（每个操作区域）：每天 %1 条可接受，最多 %2 条；每 10 分钟 %3 条可接受，最多 %4 条；任何 10 分钟内不超过 %5 条；报警泛滥时间低于 %6 %；无振荡报警；长期报警少于 %7 个。</translation>
    </message>
    <message>
      <source>Last 30 days</source>
      <translation>最近 30 天</translation>
    </message>
    <message>
      <source>Over what an operator can manage</source>
      <translation>超出操作员处理能力</translation>
    </message>
    <message>
      <source>Per 10 min, busiest</source>
      <translation>每 10 分钟（最多）</translation>
    </message>
    <message>
      <source>Per 10 min, mean</source>
      <translation>每 10 分钟（平均）</translation>
    </message>
    <message>
      <source>Per day, mean</source>
      <translation>每天（平均）</translation>
    </message>
    <message>
      <source>Period</source>
      <translation>时段</translation>
    </message>
    <message>
      <source>Raises</source>
      <translation>触发次数</translation>
    </message>
    <message>
      <source>Raises within 60 s</source>
      <translation>60 秒内触发次数</translation>
    </message>
    <message>
      <source>Reading the journal…</source>
      <translation>正在读取事件日志…</translation>
    </message>
    <message>
      <source>Share of load %</source>
      <translation>占报警负荷 %</translation>
    </message>
    <message>
      <source>Stale alarms (active for more than 24 h)</source>
      <translation>长期报警（持续超过 24 小时）</translation>
    </message>
    <message>
      <source>The alarm health could not be computed: %1</source>
      <translation>报警系统健康无法统计：%1</translation>
    </message>
    <message>
      <source>The end of the period must be after its start.</source>
      <translation>时段的结束时间必须晚于开始时间。</translation>
    </message>
    <message>
      <source>Top 10 most frequent alarms</source>
      <translation>最频繁的 10 个报警</translation>
    </message>
    <message>
      <source>Within target</source>
      <translation>在目标之内</translation>
    </message>
    <message>
      <source>Notified</source>
      <translation>已通知</translation>
    </message>
    <message>
      <source>Notifications</source>
      <translation>通知记录</translation>
    </message>
    <message>
      <source>Rating</source>
      <translation>评价</translation>
    </message>
  </context>
</TS>
