<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>ControlDialog</name>
    <message>
      <source>Already {state}.</source>
      <translation>已经是{state}。</translation>
    </message>
    <message>
      <source>Area: {area}    Operator: {user}    Workstation: {ws}</source>
      <translation>区域：{area}    操作员：{user}    工作站：{ws}</translation>
    </message>
    <message>
      <source>Cancel selection</source>
      <translation>取消选择</translation>
    </message>
    <message>
      <source>Close</source>
      <translation>合闸</translation>
    </message>
    <message>
      <source>Close window</source>
      <translation>关闭窗口</translation>
    </message>
    <message>
      <source>Communication</source>
      <translation>通讯</translation>
    </message>
    <message>
      <source>Confirm</source>
      <translation>确认</translation>
    </message>
    <message>
      <source>Confirmed with password</source>
      <translation>已用密码确认</translation>
    </message>
    <message>
      <source>Done: {state}, verified by readback in {s} s.</source>
      <translation>完成：{state}，{s} 秒内经回读校验。</translation>
    </message>
    <message>
      <source>Error: {reason}</source>
      <translation>错误：{reason}</translation>
    </message>
    <message>
      <source>Execute</source>
      <translation>执行</translation>
    </message>
    <message>
      <source>Last trip cause</source>
      <translation>最近脱扣原因</translation>
    </message>
    <message>
      <source>Live values</source>
      <translation>实时数据</translation>
    </message>
    <message>
      <source>Maintenance mode: the breaker is locked and refuses remote and hand operation.</source>
      <translation>维修模式：断路器已锁定，不接受远程命令，也不能手动操作。</translation>
    </message>
    <message>
      <source>Manual mode: the breaker refuses remote commands. Only hand operation at the panel acts.</source>
      <translation>手动模式：断路器不接受远程分合闸命令，只能在现场手动操作。</translation>
    </message>
    <message>
      <source>Mode</source>
      <translation>模式</translation>
    </message>
    <message>
      <source>No good reading of {tag} ({reason}): not under remote control.</source>
      <translation>{tag} 无有效读数（{reason}）：不能远程控制。</translation>
    </message>
    <message>
      <source>Not open on a protection trip; nothing to reset.</source>
      <translation>未因保护动作分闸，无需复归。</translation>
    </message>
    <message>
      <source>Open</source>
      <translation>分闸</translation>
    </message>
    <message>
      <source>Opening de-energises no load.</source>
      <translation>分闸不会使任何负荷失电。</translation>
    </message>
    <message>
      <source>Opening de-energises these loads:</source>
      <translation>分闸将使以下负荷失电：</translation>
    </message>
    <message>
      <source>Password re-entry failed; the selection is withdrawn.</source>
      <translation>密码校验失败，选择已撤销。</translation>
    </message>
    <message>
      <source>Cannot tell what is possible: {reason}</source>
      <translation>无法判断可执行的操作：{reason}</translation>
    </message>
    <message>
      <source>Checking what is possible…</source>
      <translation>正在检查可执行的操作…</translation>
    </message>
    <message>
      <source>State</source>
      <translation>运行状态</translation>
    </message>
    <message>
      <source>Start</source>
      <translation>启动</translation>
    </message>
    <message>
      <source>Stop</source>
      <translation>停止</translation>
    </message>
    <message>
      <source>Position</source>
      <translation>分合状态</translation>
    </message>
    <message>
      <source>Re-enter your password</source>
      <translation>请再次输入您的密码</translation>
    </message>
    <message>
      <source>Refused: {reason}</source>
      <translation>拒绝：{reason}</translation>
    </message>
    <message>
      <source>Remote control available.</source>
      <translation>可以远程控制。</translation>
    </message>
    <message>
      <source>Remote control not possible: {reasons}</source>
      <translation>不能远程控制：{reasons}</translation>
    </message>
    <message>
      <source>Remote control — {name}</source>
      <translation>远程控制 — {name}</translation>
    </message>
    <message>
      <source>Reset trip</source>
      <translation>脱扣复归</translation>
    </message>
    <message>
      <source>Selected by {user} at {workstation} until {until}.</source>
      <translation>已被 {user} 在工作站 {workstation} 选择，至 {until}。</translation>
    </message>
    <message>
      <source>Selected: {verb}</source>
      <translation>已选择：{verb}</translation>
    </message>
    <message>
      <source>Selected: {verb} {name}</source>
      <translation>已选择：{verb} {name}</translation>
    </message>
    <message>
      <source>Selection lapsed after {s} s</source>
      <translation>选择已超时（{s} 秒）</translation>
    </message>
    <message>
      <source>Status</source>
      <translation>状态</translation>
    </message>
    <message>
      <source>The breaker tripped on {cause}.</source>
      <translation>断路器因{cause}脱扣。</translation>
    </message>
    <message>
      <source>The command was accepted but the position did not become {state} within {s} s.</source>
      <translation>命令已被接受，但 {s} 秒内未回读到{state}。</translation>
    </message>
    <message>
      <source>The device did not carry out the command: {reason}</source>
      <translation>设备未执行命令：{reason}</translation>
    </message>
    <message>
      <source>The last reading of {tag} is {age} s old.</source>
      <translation>{tag} 的最近读数已过去 {age} 秒。</translation>
    </message>
    <message>
      <source>The mode switch reads an unknown value ({value}).</source>
      <translation>模式开关读数未知（{value}）。</translation>
    </message>
    <message>
      <source>The operate differs from the selection ({details}); the selection is withdrawn.</source>
      <translation>执行与选择不一致（{details}），选择已撤销。</translation>
    </message>
    <message>
      <source>The selection lapsed after {seconds} s; select again.</source>
      <translation>选择已超时（{seconds} 秒），请重新选择。</translation>
    </message>
    <message>
      <source>The selection lapses in {s} s ({until}).</source>
      <translation>选择将在 {s} 秒后失效（{until}）。</translation>
    </message>
    <message>
      <source>The selection was not confirmed with the password.</source>
      <translation>选择未经密码确认。</translation>
    </message>
    <message>
      <source>There is no current selection; select again.</source>
      <translation>当前没有选择，请重新选择。</translation>
    </message>
    <message>
      <source>Trip on {cause} reset</source>
      <translation>{cause}脱扣已复归</translation>
    </message>
    <message>
      <source>Tripped on {cause}: find the cause, then reset the trip before closing.</source>
      <translation>因{cause}脱扣：请查明原因并复归后再合闸。</translation>
    </message>
    <message>
      <source>Value {value} is not a command of this point.</source>
      <translation>{value} 不是该点的有效命令值。</translation>
    </message>
    <message>
      <source>Your role may not control devices in {area}.</source>
      <translation>您的角色无权控制{area}的设备。</translation>
    </message>
    <message>
      <source>device offline</source>
      <translation>设备离线</translation>
    </message>
    <message>
      <source>never read</source>
      <translation>从未读到</translation>
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
      <source>quality uncertain</source>
      <translation>质量不确定</translation>
    </message>
    <message>
      <source>{target} is not under remote control.</source>
      <translation>{target} 不在远程控制范围内。</translation>
    </message>
  </context>
</TS>
