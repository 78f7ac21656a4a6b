<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>EmergencyPicker</name>
    <message>
      <source>Emergency control — {user}</source>
      <translation>紧急控制 — {user}</translation>
    </message>
    <message>
      <source>The session stays locked. Choose the device to operate; every step is checked and audited for you.</source>
      <translation>会话保持锁定。请选择要操作的设备；每一步都以您的身份校验并记入审计日志。</translation>
    </message>
    <message>
      <source>Open control</source>
      <translation>打开控制</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>取消</translation>
    </message>
  </context>
</TS>
