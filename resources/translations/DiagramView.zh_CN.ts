<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>DiagramView</name>
    <message>
      <source>{name} ({count})</source>
      <translation>{name}（{count}回路）</translation>
    </message>
    <message>
      <source>Manual</source>
      <translation>手动</translation>
    </message>
    <message>
      <source>Maint.</source>
      <translation>检修</translation>
    </message>
    <message>
      <source>Tripped</source>
      <translation>跳闸</translation>
    </message>
    <message>
      <source>Overview</source>
      <translation>主接线总览</translation>
    </message>
    <message>
      <source>Diagram</source>
      <translation>系统图</translation>
    </message>
    <message>
      <source>Fit to window</source>
      <translation>适应窗口</translation>
    </message>
    <message>
      <source>Show the whole diagram (mouse wheel zooms, drag pans)</source>
      <translation>显示整幅图（滚轮缩放，拖动平移）</translation>
    </message>
    <message>
      <source>Go to diagram: {name}</source>
      <translation>转到图：{name}</translation>
    </message>
    <message>
      <source>Incoming line</source>
      <translation>进线</translation>
    </message>
    <message>
      <source>Transformer</source>
      <translation>变压器</translation>
    </message>
    <message>
      <source>Busbar</source>
      <translation>母线</translation>
    </message>
    <message>
      <source>Bus tie</source>
      <translation>母联</translation>
    </message>
    <message>
      <source>Feeder</source>
      <translation>馈线回路</translation>
    </message>
    <message>
      <source>Breaker</source>
      <translation>断路器</translation>
    </message>
    <message>
      <source>Meter</source>
      <translation>计量表</translation>
    </message>
    <message>
      <source>Load</source>
      <translation>负荷</translation>
    </message>
    <message>
      <source>energised</source>
      <translation>带电</translation>
    </message>
    <message>
      <source>de-energised</source>
      <translation>失电</translation>
    </message>
    <message>
      <source>energisation unknown</source>
      <translation>带电状态未知</translation>
    </message>
    <message>
      <source>offline</source>
      <translation>离线</translation>
    </message>
    <message>
      <source>online</source>
      <translation>在线</translation>
    </message>
    <message>
      <source>Device: {name} ({id}), {comm}</source>
      <translation>设备：{name}（{id}），{comm}</translation>
    </message>
    <message>
      <source>Click to operate</source>
      <translation>单击进行遥控操作</translation>
    </message>
    <message>
      <source>device offline</source>
      <translation>设备离线</translation>
    </message>
    <message>
      <source>no value yet</source>
      <translation>尚无数据</translation>
    </message>
    <message>
      <source>Updated {time}</source>
      <translation>更新于 {time}</translation>
    </message>
  </context>
</TS>
