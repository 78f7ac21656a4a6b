<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>AlarmText</name>
    <message>
      <source>High</source>
      <translation>越上限</translation>
    </message>
    <message>
      <source>Low</source>
      <translation>越下限</translation>
    </message>
    <message>
      <source>State alarm</source>
      <translation>状态报警</translation>
    </message>
    <message>
      <source>Imbalance</source>
      <translation>不平衡</translation>
    </message>
    <message>
      <source>Phase loss</source>
      <translation>缺相</translation>
    </message>
    <message>
      <source>Loss of voltage</source>
      <translation>失压</translation>
    </message>
    <message>
      <source>Breaker trip</source>
      <translation>断路器跳闸</translation>
    </message>
    <message>
      <source>Communication lost</source>
      <translation>通讯中断</translation>
    </message>
    <message>
      <source>Bad quality</source>
      <translation>数据质量坏</translation>
    </message>
    <message>
      <source>Consumption surge</source>
      <translation>能耗突增</translation>
    </message>
    <message>
      <source>Daily energy limit</source>
      <translation>日能耗超限</translation>
    </message>
    <message>
      <source>Pre-warning</source>
      <translation>预警</translation>
    </message>
    <message>
      <source>Alarm</source>
      <translation>报警</translation>
    </message>
    <message>
      <source>cause code %1</source>
      <translation>原因代码 %1</translation>
    </message>
  </context>
</TS>
