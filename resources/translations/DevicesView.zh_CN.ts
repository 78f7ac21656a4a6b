<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>DevicesView</name>
    <message>
      <source>Double-click to operate it (select before operate)</source>
      <translation>双击进行遥控操作（先选择后执行）</translation>
    </message>
    <message>
      <source>Good</source>
      <translation>正常</translation>
    </message>
    <message>
      <source>Uncertain</source>
      <translation>可疑</translation>
    </message>
    <message>
      <source>Bad</source>
      <translation>无效</translation>
    </message>
    <message>
      <source>Device / point</source>
      <translation>设备 / 测点</translation>
    </message>
    <message>
      <source>Description</source>
      <translation>描述</translation>
    </message>
    <message>
      <source>Value</source>
      <translation>值</translation>
    </message>
    <message>
      <source>Quality</source>
      <translation>质量</translation>
    </message>
    <message>
      <source>Last update</source>
      <translation>最后更新</translation>
    </message>
    <message>
      <source>Communication / reason</source>
      <translation>通讯 / 原因</translation>
    </message>
    <message>
      <source>{n} not good</source>
      <translation>{n} 个测点异常</translation>
    </message>
    <message>
      <source>All good</source>
      <translation>全部正常</translation>
    </message>
    <message>
      <source>Online</source>
      <translation>在线</translation>
    </message>
    <message>
      <source>Offline</source>
      <translation>离线</translation>
    </message>
    <message>
      <source>Not yet scanned</source>
      <translation>尚未采集</translation>
    </message>
    <message>
      <source>Device offline</source>
      <translation>设备离线</translation>
    </message>
    <message>
      <source>No value yet</source>
      <translation>尚无数据</translation>
    </message>
    <message>
      <source>Reason: {reason}</source>
      <translation>原因：{reason}</translation>
    </message>
    <message>
      <source>Device offline: value is the last one received</source>
      <translation>设备离线：显示的是最后一次收到的值</translation>
    </message>
    <message>
      <source>Filter devices and points (id, name, description, value)</source>
      <translation>筛选设备和测点（编号、名称、描述、值）</translation>
    </message>
    <message>
      <source>Only points not good</source>
      <translation>仅显示异常测点</translation>
    </message>
  </context>
</TS>
