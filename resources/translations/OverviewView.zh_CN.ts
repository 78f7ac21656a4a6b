<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>OverviewView</name>
    <message>
      <source>priority {p}: {n}</source>
      <translation>{p}级：{n}</translation>
    </message>
    <message>
      <source>Lighting &amp; sockets</source>
      <translation>照明插座</translation>
    </message>
    <message>
      <source>HVAC</source>
      <translation>空调</translation>
    </message>
    <message>
      <source>Power</source>
      <translation>动力</translation>
    </message>
    <message>
      <source>Special</source>
      <translation>特殊用电</translation>
    </message>
    <message>
      <source>Total load</source>
      <translation>总负荷</translation>
    </message>
    <message>
      <source>{name} load</source>
      <translation>{name}负荷</translation>
    </message>
    <message>
      <source>Energy today</source>
      <translation>今日用电</translation>
    </message>
    <message>
      <source>Active alarms</source>
      <translation>活动报警</translation>
    </message>
    <message>
      <source>Energy today by sub-item</source>
      <translation>今日分项用电</translation>
    </message>
    <message>
      <source>Energy today by area</source>
      <translation>今日分区用电</translation>
    </message>
    <message>
      <source>{tag}: no value yet</source>
      <translation>{tag}：尚无数据</translation>
    </message>
    <message>
      <source>{tag}: device offline</source>
      <translation>{tag}：设备离线</translation>
    </message>
    <message>
      <source>{n} transformer meters</source>
      <translation>{n} 台变压器计量表</translation>
    </message>
    <message>
      <source>No transformer or incoming-line meter in the topology</source>
      <translation>拓扑中没有变压器或进线计量表</translation>
    </message>
    <message>
      <source>Loading {pct:.0f} % of {kva:.0f} kVA</source>
      <translation>负载率 {pct:.0f} %（额定 {kva:.0f} kVA）</translation>
    </message>
    <message>
      <source>Reading the historian…</source>
      <translation>正在读取历史数据…</translation>
    </message>
    <message>
      <source>Database unreachable</source>
      <translation>数据库不可达</translation>
    </message>
    <message>
      <source>since 00:00, {n} feeders</source>
      <translation>自 00:00 起，{n} 条回路</translation>
    </message>
    <message>
      <source>No data today from:</source>
      <translation>今日尚无数据的表：</translation>
    </message>
    <message>
      <source>Database unreachable — energy figures as of {time}</source>
      <translation>数据库不可达 — 用电数据截至 {time}</translation>
    </message>
    <message>
      <source>Energy since local midnight from the historian's 15-minute rollups; updated {time}.</source>
      <translation>用电量为当地零点至今，取自历史库 15 分钟汇总；更新于 {time}。</translation>
    </message>
    <message>
      <source>{n} meters have no data yet today.</source>
      <translation>{n} 块表今日尚无数据。</translation>
    </message>
    <message>
      <source>none</source>
      <translation>无</translation>
    </message>
  </context>
</TS>
