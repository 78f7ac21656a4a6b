<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>AlarmBanner</name>
    <message>
      <source>%1 — click to show it in the alarm list</source>
      <translation>%1 — 单击在报警列表中显示</translation>
    </message>
    <message>
      <source>Acknowledge</source>
      <translation>确认</translation>
    </message>
    <message>
      <source>Acknowledge all</source>
      <translation>全部确认</translation>
    </message>
    <message>
      <source>Acknowledge every unacknowledged alarm</source>
      <translation>确认所有未确认的报警</translation>
    </message>
    <message>
      <source>Acknowledge the alarm shown</source>
      <translation>确认所显示的报警</translation>
    </message>
    <message>
      <source>Click to open the alarm list</source>
      <translation>单击打开报警列表</translation>
    </message>
    <message>
      <source>FLOOD: %1</source>
      <translation>报警泛滥：%1</translation>
    </message>
    <message>
      <source>More alarms than an operator can handle are being raised in these areas</source>
      <translation>这些区域产生的报警超出了值班员的处理能力</translation>
    </message>
    <message>
      <source>No unacknowledged alarms</source>
      <translation>无未确认报警</translation>
    </message>
    <message>
      <source>Priority %1</source>
      <translation>%1级</translation>
    </message>
    <message>
      <source>Priority %1: %2 alarms, %3 unacknowledged</source>
      <translation>%1级：报警 %2 条，未确认 %3 条</translation>
    </message>
    <message>
      <source>Silence</source>
      <translation>消音</translation>
    </message>
    <message>
      <source>Silence the horn until a new alarm comes</source>
      <translation>消音，直到有新报警</translation>
    </message>
  </context>
</TS>
