<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>WallWindow</name>
    <message>
      <source>{n}/{total} devices offline</source>
      <translation>{n}/{total} 台设备离线</translation>
    </message>
    <message>
      <source>database down, {n} samples buffered</source>
      <translation>数据库中断，已缓存 {n} 条数据</translation>
    </message>
    <message>
      <source>no live data for {s} s</source>
      <translation>{s} 秒无实时数据</translation>
    </message>
    <message>
      <source>STALE: {what}</source>
      <translation>数据陈旧：{what}</translation>
    </message>
    <message>
      <source>Live</source>
      <translation>实时</translation>
    </message>
    <message>
      <source>WattDesk wall display — {site}</source>
      <translation>WattDesk 大屏显示 — {site}</translation>
    </message>
    <message>
      <source>No views installed</source>
      <translation>未安装任何画面</translation>
    </message>
    <message>
      <source>Overview</source>
      <translation>总览</translation>
    </message>
    <message>
      <source>Single-line diagrams</source>
      <translation>一次系统图</translation>
    </message>
    <message>
      <source>Trends</source>
      <translation>趋势</translation>
    </message>
    <message>
      <source>Active alarms</source>
      <translation>活动报警</translation>
    </message>
  </context>
</TS>
